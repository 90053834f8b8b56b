"""Reopen in Container, as VS Code and Codespaces do it: the official Dev Containers CLI."""

import os
import shutil
import time
import uuid

import pytest

from tests.stack.stack import REPO_DIR, Stack, dev_ports, http, run

PORT = 18200
PROJECT = "desideliver-stacktest-devcontainer"


def _cli() -> str:
    cli = os.environ.get("DEVCONTAINER_CLI") or shutil.which("devcontainer")
    if not cli:
        pytest.fail("the Dev Containers CLI is missing: npm install @devcontainers/cli (scripts/dev test-stack does)")
    return cli


@pytest.fixture(scope="module")
def devcontainer():
    env = {"COMPOSE_PROJECT_NAME": PROJECT, **dev_ports(PORT)}
    stack = Stack(PROJECT, "docker-compose.yml", PORT, env)
    stack.down("--volumes")
    cli_env = {k: v for k, v in stack.env.items() if k != "DOCKER_BUILDKIT"}  # its UID step needs buildx with =1
    started = time.monotonic()
    up = run([_cli(), "up", "--workspace-folder", str(REPO_DIR)], env=cli_env, timeout=900)
    assert '"outcome":"success"' in up.stdout, up.stdout[-3000:]
    print(f"devcontainer up took {time.monotonic() - started:.1f} s")
    # `up` returns once postCreate is done; the dev server may still be starting beside it.
    stack.wait_ready(timeout=60)

    def exec_in(*args, check=True):
        return run([_cli(), "exec", "--workspace-folder", str(REPO_DIR), *args], env=cli_env, check=check, timeout=900)

    yield stack, exec_in
    stack.down("--volumes")


def test_the_api_answers_on_the_forwarded_port_with_seeded_data(devcontainer):
    stack, _ = devcontainer
    products = http("GET", stack.url("/api/products/")).json()
    assert products["count"] >= 20, "postCreateCommand did not seed the demo catalogue"
    login = http(
        "POST", stack.url("/api/auth/login/"), body={"email": "demo@desideliver.in", "password": "desideliver-demo"}
    )
    assert login.status == 200


def test_pytest_runs_inside_against_the_stacks_database_and_redis(devcontainer):
    """The container's own pytest, on its PostgreSQL and Redis: a smoke run. The whole
    API suite runs once per CI run, in the dev stack (scripts/dev test)."""
    _, exec_in = devcontainer
    result = exec_in("pytest", "-q", "-p", "no:cacheprovider", "tests/api/core/test_health.py")
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


def test_a_pre_commit_hook_runs_inside(devcontainer):
    """The git hooks the container installed run with its tools (every hook runs in
    scripts/dev lint)."""
    _, exec_in = devcontainer
    result = exec_in("pre-commit", "run", "ruff-check", "--all-files", "--show-diff-on-failure", check=False)
    assert result.returncode == 0, result.stdout[-4000:]


def test_git_works_and_new_files_belong_to_the_checkout_owner(devcontainer):
    _, exec_in = devcontainer
    status = exec_in("git", "status", "--porcelain", check=False)
    assert status.returncode == 0, status.stderr
    assert "dubious ownership" not in status.stderr
    probe = f".devcontainer-owner-probe-{uuid.uuid4().hex[:6]}"
    try:
        exec_in("touch", f"/workspace/{probe}")
        assert (REPO_DIR / probe).stat().st_uid == REPO_DIR.stat().st_uid
    finally:
        (REPO_DIR / probe).unlink(missing_ok=True)


def test_the_server_is_the_main_process_and_tools_are_preinstalled(devcontainer):
    _, exec_in = devcontainer
    tools = exec_in(
        "bash", "-lc", "command -v psql redis-cli git shellcheck ruff pre-commit pytest && python -c 'import debugpy'"
    )
    assert len(tools.stdout.split()) == 7
    main = exec_in("cat", "/proc/1/cmdline").stdout.replace("\0", " ")
    assert "docker-init" in main or "tini" in main or "watchfiles" in main, main
