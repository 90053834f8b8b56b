"""Bad input at the edge: schemathesis fuzzes every operation of the running production
API as each kind of caller (anonymous, customer, staff), checking that nothing is a
5xx and that every documented response matches the schema. The three callers run at
the same time, as a shop's callers do: a staff edit racing a customer's order must
not be a 5xx either."""

import re
import subprocess
import uuid

import pytest

from tests.stack.stack import REPO_DIR, demo_staff_login, register_and_login

# Staff's generated requests edit, hide and delete products (tests/stack/conftest.py, shopper).
CHANGES_THE_CATALOGUE = True
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
ROLES = ("anonymous", "customer", "staff")


def token_for(prod_stack, role: str) -> str | None:
    if role == "anonymous":
        return None
    if role == "customer":
        return register_and_login(prod_stack, f"fuzz-{uuid.uuid4().hex[:8]}@example.in")
    return demo_staff_login(prod_stack)


@pytest.fixture(scope="module")
def fuzzing(prod_stack, tmp_path_factory):
    """One schemathesis run per caller, all started at once; each test waits for its own."""
    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    ca_bundle = tmp_path_factory.mktemp("edge") / "edge-root-ca.pem"  # verified, never 'false'
    ca_bundle.write_text(prod_stack.edge_root_ca())
    schemathesis = REPO_DIR / ".venv-stack" / "bin" / "schemathesis"
    runs = {}
    for role in ROLES:
        token = token_for(prod_stack, role)
        folder = tmp_path_factory.mktemp(f"fuzz-{role}")
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
            str(folder),
        ]
        if token:
            command += ["--header", f"Authorization: Bearer {token}"]
        runs[role] = subprocess.Popen(
            command,
            env=prod_stack.env,
            cwd=folder,  # schemathesis keeps a cache in its working directory
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield runs
    for process in runs.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_produces_a_server_error_or_an_off_schema_response(fuzzing, role):
    output, _ = fuzzing[role].communicate(timeout=900)
    tail = output[-8000:]
    assert fuzzing[role].returncode == 0, tail
    # It really exercised the API: every operation, many requests.
    assert int(re.search(r"Tested: (\d+)", output).group(1)) >= 40, tail
    assert int(re.search(r"(\d+) generated", output).group(1)) >= 500, tail
