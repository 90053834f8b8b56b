"""Plain `docker compose up` works for whoever owns the checkout: uid 1000, another
uid, or root. The container adopts the owner of the bind-mounted checkout, so the
dev server and every shell write files that belong to that owner on the host."""

import uuid

import pytest

from tests.stack.checkout import chown_tree, copy_checkout
from tests.stack.stack import REPO_DIR, Stack, dev_ports, http, run

PORT = 18310


@pytest.mark.parametrize("owner", [1000, 4242, 0], ids=["uid-1000", "uid-4242", "root"])
def test_the_dev_stack_writes_as_the_checkouts_owner(tmp_path, owner):
    checkout = copy_checkout(tmp_path / "checkout")
    chown_tree(checkout, owner, owner)
    project = f"desideliver-stacktest-owner-{owner}"
    stack = Stack(project, str(checkout / "docker-compose.yml"), PORT, dev_ports(PORT))
    stack.down("--volumes")
    try:
        stack.up("--build")  # plain `docker compose up`: no APP_UID, no scripts/dev
        assert http("GET", stack.url("/health/ready/")).status == 200

        server_uids = {
            line.split()[0]
            for line in stack.exec("backend", "ps", "-eo", "uid=,args=").stdout.splitlines()
            if "runserver" in line
        }
        assert server_uids == {str(owner)}

        # A shell as the documented user, and what the dev server's own user writes.
        name = f"probe-{uuid.uuid4().hex[:6]}"
        stack.exec("backend", "sh", "-c", f"touch /workspace/{name} && mkdir /workspace/{name}.d", user="app")
        stack.exec("backend", "python", "manage.py", "makemigrations", "--check", "--dry-run", user="app")
        for created in (checkout / name, checkout / f"{name}.d"):
            assert (created.stat().st_uid, created.stat().st_gid) == (owner, owner), created
        home = stack.exec(
            "backend", "sh", "-c", "touch /home/app/.cache/p && stat -c %u /home/app/.cache/p", user="app"
        )
        assert home.stdout.strip() == str(owner)
    finally:
        stack.down("--volumes")
        run(["docker", "image", "rm", "-f", f"{project}-backend:dev"], check=False)


def test_a_second_checkout_on_the_same_project_is_stopped_before_it_takes_over(dev_stack, tmp_path):
    """Compose names containers, volumes and the dev image after the project: a second
    clone or worktree on the same name would replace the first one's, so it is refused."""
    second = copy_checkout(tmp_path / "second")
    result = run(
        [str(second / "scripts" / "dev"), "up"],
        env={**dev_stack.env, "COMPOSE_PROJECT_NAME": dev_stack.project},
        cwd=second,
        check=False,
    )
    assert result.returncode == 1
    assert f"belong to the checkout at {REPO_DIR}" in result.stderr
    assert "COMPOSE_PROJECT_NAME=" in result.stderr
    assert dev_stack.inspect("backend")["Config"]["Labels"]["com.docker.compose.project.working_dir"] == str(REPO_DIR)
