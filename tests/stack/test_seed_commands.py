"""The build and run commands people type from memory: `docker build --target ...`
with the legacy builder (what plain `docker build` is on Engine 20.10 without buildx)
and with BuildKit, and `docker run` of the development image on its own."""

import os
import time

import pytest

from tests.stack.stack import REPO_DIR, run


def builder_client(builder: str) -> tuple[str, dict]:
    env = {**os.environ, "DOCKER_BUILDKIT": "1" if builder == "buildkit" else "0"}
    client = "docker"
    if builder == "buildkit" and run(["docker", "buildx", "version"], check=False).returncode != 0:
        client = "/usr/bin/docker"  # Debian's 20.10 client has BuildKit built in; the newer one needs buildx
    return client, env


@pytest.fixture(scope="module")
def built():
    images = {}
    yield images
    for tag in images.values():
        run(["docker", "image", "rm", "-f", tag], check=False)


@pytest.mark.parametrize("builder", ["legacy", "buildkit"])
@pytest.mark.parametrize("target", ["development", "production"])
def test_docker_build_works_with_either_builder(built, target, builder):
    client, env = builder_client(builder)
    tag = f"desideliver-backend:seedtest-{target}-{builder}"
    command = [client, "build", "--target", target, "-t", tag]
    if os.environ.get("PYTHON_IMAGE"):  # a stand-in base where no registry is reachable
        command += ["--build-arg", f"PYTHON_IMAGE={os.environ['PYTHON_IMAGE']}"]
    result = run([*command, "."], env=env, check=False, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    built[(target, builder)] = tag


def test_the_development_image_alone_says_what_it_needs(built):
    image = built.get(("development", "legacy")) or pytest.fail("the development image was not built")
    alone = run(["docker", "run", "--rm", image], check=False, timeout=60)
    assert alone.returncode == 1
    assert "the development image runs the checkout mounted at /workspace" in alone.stderr

    started = time.monotonic()
    no_database = run(
        ["docker", "run", "--rm", "-e", "DB_WAIT_SECONDS=5", "-v", f"{REPO_DIR}:/workspace:ro", image],
        check=False,
        timeout=60,
    )
    assert no_database.returncode == 1
    assert "PostgreSQL at db:5432 did not answer within 5 s" in no_database.stderr
    assert "docker compose up" in no_database.stderr
    assert time.monotonic() - started < 30
