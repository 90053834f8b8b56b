"""A fresh clone to green tests in the dev container."""

import os
import shutil
import tempfile
import time
from pathlib import Path

from tests.stack.stack import dev_ports

from .common import REPO, report, sh


def section_onboarding(args) -> None:
    cli = os.environ.get("DEVCONTAINER_CLI") or shutil.which("devcontainer")
    if not cli:
        report("onboarding", "not measured", "", "", "no Dev Containers CLI (set DEVCONTAINER_CLI)")
        return
    project, port = "desideliver-bench-onboard", 19300
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "desideliver"
        sh("git", "clone", "-q", str(REPO), str(clone))
        env = {"COMPOSE_PROJECT_NAME": project, **dev_ports(port)}
        env_without_buildkit = {k: v for k, v in {**os.environ, **env}.items() if k != "DOCKER_BUILDKIT"}
        sh("docker", "compose", "-p", project, "-f", str(clone / "docker-compose.yml"), "down", "-v", check=False)
        start = time.monotonic()
        sh(cli, "up", "--workspace-folder", str(clone), env=env_without_buildkit)
        up = time.monotonic() - start
        start = time.monotonic()
        tests = sh(
            cli,
            "exec",
            "--workspace-folder",
            str(clone),
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            env=env_without_buildkit,
            check=False,
        )
        test_time = time.monotonic() - start
        summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-200:]
        report(
            "onboarding: cold `devcontainer up`", f"{up:.1f} s", "", "", "fresh clone, base images present", peer="73 s"
        )
        report(
            "onboarding: then the tests",
            f"{test_time:.1f} s ({summary})",
            "",
            "",
            "devcontainer exec pytest",
            peer="3.5 s (22 tests)",
        )
        report(
            "onboarding: up + tests green",
            f"{up + test_time:.1f} s",
            "",
            "<= 40 s",
            "sum of the two",
            peer="76.5 s",
            met=up + test_time <= 40 and tests.returncode == 0,
        )
        sh("docker", "compose", "-p", project, "-f", str(clone / "docker-compose.yml"), "stop", check=False)
        start = time.monotonic()
        sh(cli, "up", "--workspace-folder", str(clone), env=env_without_buildkit)
        warm = time.monotonic() - start
        report(
            "onboarding: warm `devcontainer up`",
            f"{warm:.1f} s",
            "",
            "<= 5 s",
            "second up, containers stopped",
            peer="7.6 s",
            measured=warm,
        )
        sh("docker", "compose", "-p", project, "-f", str(clone / "docker-compose.yml"), "down", "-v", check=False)
