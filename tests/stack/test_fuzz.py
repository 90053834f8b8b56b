"""Bad input at the edge: schemathesis fuzzes every operation of the running production API."""

import re

import pytest

from tests.stack.stack import HTTPS, REPO_DIR, http, run


@pytest.fixture(scope="module")
def staff_token(prod_stack):
    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    login = http(
        "POST",
        prod_stack.url("/api/auth/login/"),
        headers=HTTPS,
        body={"email": "staff@desideliver.in", "password": "desideliver-demo"},
    )
    assert login.status == 200
    return login.json()["access"]


def test_no_generated_request_produces_a_server_error(prod_stack, staff_token, tmp_path):
    schemathesis = REPO_DIR / ".venv-stack" / "bin" / "schemathesis"
    result = run(
        [
            str(schemathesis),
            "run",
            prod_stack.url("/api/schema/?format=json"),
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--phases",
            "examples,coverage,fuzzing",
            "--header",
            "X-Forwarded-Proto: https",
            "--header",
            f"Authorization: Bearer {staff_token}",
            "--request-timeout",
            "10",
            "--seed",
            "20261126",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        env=prod_stack.env,
        check=False,
        timeout=900,
        cwd=tmp_path,  # schemathesis keeps a cache in its working directory
    )
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    # It really exercised the API: every operation, thousands of requests.
    assert int(re.search(r"Tested: (\d+)", result.stdout).group(1)) >= 30, tail
    assert int(re.search(r"(\d+) generated", result.stdout).group(1)) >= 1000, tail
