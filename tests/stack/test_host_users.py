"""Plain `docker compose up` works for whoever owns the checkout: uid 1000, another
uid, or root. The container adopts the owner of the bind-mounted checkout, so the
dev server and every shell write files that belong to that owner on the host."""

import uuid

import pytest

from tests.stack.checkout import chown_tree, copy_checkout
from tests.stack.stack import Stack, http

PORT = 18310


@pytest.mark.parametrize("owner", [1000, 4242, 0], ids=["uid-1000", "uid-4242", "root"])
def test_the_dev_stack_writes_as_the_checkouts_owner(tmp_path, owner):
    checkout = copy_checkout(tmp_path / "checkout")
    chown_tree(checkout, owner, owner)
    project = f"desideliver-stacktest-owner-{owner}"
    env = {"BACKEND_PORT": str(PORT), "DB_PORT_HOST": str(PORT + 1), "REDIS_PORT_HOST": str(PORT + 2)}
    stack = Stack(project, str(checkout / "docker-compose.yml"), PORT, env)
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
        stack.compose("down", "--rmi", "local", check=False)
