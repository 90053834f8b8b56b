"""Plain `docker compose up` works for whoever owns the checkout: uid 1000, another
uid, or root. The container adopts the owner of the bind-mounted checkout, so the
dev server and every shell write files that belong to that owner on the host."""

import uuid

import pytest

from tests.stack.checkout import chown_tree, copy_checkout
from tests.stack.stack import REPO_DIR, Stack, dev_ports, run

PORT = 18310


@pytest.mark.parametrize("owner", [1000, 4242, 0], ids=["uid-1000", "uid-4242", "root"])
def test_the_dev_container_writes_as_the_checkouts_owner(dev_stack, tmp_path, owner):
    """What `docker compose up` runs, in a copy of the checkout owned by ``owner``: the
    dev image's entrypoint adopts the owner before any command (the dev server included,
    which test_dev_stack checks on the suite's own stack), so one command per owner in a
    one-off container of the development image proves it without a stack of its own."""
    checkout = copy_checkout(tmp_path / "checkout")
    chown_tree(checkout, owner, owner)
    project = f"desideliver-stacktest-owner-{owner}"
    stack = Stack(project, str(checkout / "docker-compose.yml"), PORT, dev_ports(PORT))
    image = f"{project}-backend:dev"  # the name compose gives this project's dev image
    run(["docker", "tag", f"{dev_stack.project}-backend:dev", image])
    name = f"probe-{uuid.uuid4().hex[:6]}"
    # The entrypoint starts as root, adopts the owner, and runs the command as the app user,
    # as it runs the dev server; the command writes into the checkout and the home.
    script = (
        f"id -u && touch /workspace/{name} && mkdir /workspace/{name}.d"
        " && touch /home/app/.cache/p && stat -c %u /home/app/.cache/p"
        " && python manage.py makemigrations --check --dry-run >/dev/null"
    )
    try:
        result = stack.compose("run", "--rm", "--no-deps", "backend", "sh", "-c", script)
        assert result.stdout.split()[:2] == [str(owner), str(owner)], result.stdout
        for created in (checkout / name, checkout / f"{name}.d"):
            assert (created.stat().st_uid, created.stat().st_gid) == (owner, owner), created
    finally:
        stack.down("--volumes")
        run(["docker", "image", "rm", "-f", image], check=False)


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
