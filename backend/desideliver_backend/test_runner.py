"""``manage.py test [app ...]`` hands over to pytest, so both run the same suite.

pytest runs in a child process under the test settings; ``manage.py test orders``
runs tests/api/orders, and any other label is passed to pytest as it is.
"""

import os
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent.parent
TESTS_DIR = REPO_DIR / "tests" / "api"


class PytestRunner:
    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **kwargs) -> None:
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--keepdb", action="store_true", help="Reuse the test database between runs.")

    def run_tests(self, test_labels, **kwargs) -> int:
        args = [str(TESTS_DIR / label) if (TESTS_DIR / label).is_dir() else label for label in test_labels]
        args = args or [str(TESTS_DIR)]
        if self.verbosity == 0:
            args.append("--quiet")
        elif self.verbosity > 1:
            args.append("--verbose")
        if self.failfast:
            args.append("--exitfirst")
        if self.keepdb:
            args.append("--reuse-db")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.test"}
        sys.stdout.flush()
        return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=REPO_DIR, env=env)  # noqa: S603
