"""Bad input at the edge: schemathesis fuzzes every operation of the running production
API as each kind of caller (anonymous, customer, staff), checking that nothing is a
5xx and that every documented response matches the schema."""

import re
import uuid

import pytest

from tests.stack.stack import REPO_DIR, demo_staff_login, register_and_login, run

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def seeded(prod_stack):
    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")


def token_for(prod_stack, role: str) -> str | None:
    if role == "anonymous":
        return None
    if role == "customer":
        return register_and_login(prod_stack, f"fuzz-{uuid.uuid4().hex[:8]}@example.in")
    return demo_staff_login(prod_stack)


@pytest.mark.parametrize("role", ["anonymous", "customer", "staff"])
def test_no_generated_request_produces_a_server_error_or_an_off_schema_response(prod_stack, seeded, tmp_path, role):
    token = token_for(prod_stack, role)
    ca_bundle = tmp_path / "edge-root-ca.pem"  # verified, never 'false'
    ca_bundle.write_text(prod_stack.edge_root_ca())
    schemathesis = REPO_DIR / ".venv-stack" / "bin" / "schemathesis"
    command = [
        str(schemathesis),
        "run",
        prod_stack.url("/api/schema/?format=json"),
        "--checks",
        CHECKS,
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--tls-verify",
        str(ca_bundle),
        "--request-timeout",
        "10",
        "--seed",
        "20261128",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    result = run(
        command,
        env=prod_stack.env,
        check=False,
        timeout=900,
        cwd=tmp_path,  # schemathesis keeps a cache in its working directory
    )
    tail = result.stdout[-8000:]
    assert result.returncode == 0, tail
    # It really exercised the API: every operation, many requests.
    assert int(re.search(r"Tested: (\d+)", result.stdout).group(1)) >= 40, tail
    assert int(re.search(r"(\d+) generated", result.stdout).group(1)) >= 500, tail
