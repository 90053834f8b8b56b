"""The build and run commands people type from memory: `docker build --target ...`
with the legacy builder (what plain `docker build` is on Engine 20.10 without buildx),
and `docker run` of the development image on its own."""

import os
import time

import pytest

from tests.stack.stack import REPO_DIR, run


@pytest.fixture(scope="module")
def legacy_development_image():
    """`docker build --target development` with the legacy builder (DOCKER_BUILDKIT=0).
    BuildKit builds both targets for the suite's own stacks already (compose builds with
    it, and test_compose reads its step log), so the legacy builder is proven on one.
    The image is kept: its layers are the legacy builder's cache, so a later run on the
    same machine rebuilds only what changed (docker image rm it to reclaim the space)."""
    tag = "desideliver-backend:buildtest-development-legacy"
    command = ["docker", "build", "--target", "development", "-t", tag]
    if os.environ.get("PYTHON_IMAGE"):  # a stand-in base where no registry is reachable
        command += ["--build-arg", f"PYTHON_IMAGE={os.environ['PYTHON_IMAGE']}"]
    result = run([*command, "."], env={**os.environ, "DOCKER_BUILDKIT": "0"}, check=False, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return tag


def test_docker_build_works_with_the_legacy_builder(legacy_development_image):
    template = "{{.Config.User}} {{.Config.WorkingDir}}"
    config = run(["docker", "image", "inspect", "-f", template, legacy_development_image])
    assert config.stdout.split() == ["1000:1000", "/workspace/backend"], config.stdout


def test_the_development_image_alone_says_what_it_needs(legacy_development_image):
    image = legacy_development_image
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
