"""The tools the rest of the suite trusts, and the build itself."""

import json
import shutil

import pytest

from tests.stack.checkout import copy_checkout
from tests.stack.stack import REPO_DIR, clean_env, run


def test_docker_compose_reports_failure():
    # A compose that exits 0 on failure would make every check below pass.
    result = run(["docker", "compose", "-f", "/nonexistent/compose.yml", "config"], check=False)
    assert result.returncode != 0
    assert "nonexistent" in result.stderr


def test_compose_files_are_valid():
    for compose_file in ("docker-compose.yml", "docker-compose.prod.yml"):
        env = clean_env(SECRET_KEY="x", DB_PASSWORD="x", REDIS_PASSWORD="x", ALLOWED_HOSTS="x")
        run(["docker", "compose", "-f", compose_file, "config", "--quiet"], env=env)


def test_a_missing_production_secret_stops_the_stack_with_a_readable_message():
    env = clean_env(DB_PASSWORD="x", REDIS_PASSWORD="x", ALLOWED_HOSTS="x")
    result = run(["docker", "compose", "-f", "docker-compose.prod.yml", "up", "--no-start"], env=env, check=False)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "set SECRET_KEY to 50+ random characters" in result.stderr


def test_a_source_only_change_reuses_the_dependency_layer(tmp_path, prod_stack):
    # Build a copy of the context with one source line changed: every dependency step must be cached.
    context = copy_checkout(tmp_path / "context")
    with open(context / "backend" / "products" / "views.py", "a") as views:
        views.write("\n# a source-only change\n")
    env = {**prod_stack.env, "BACKEND_IMAGE": "desideliver-backend:stacktest-rebuild"}
    command = [
        "docker",
        "compose",
        "--progress",
        "plain",
        "-p",
        "desideliver-stacktest-rebuild",
        "-f",
        str(context / "docker-compose.prod.yml"),
        "build",
        "backend",
    ]
    result = run(command, env=env)
    log = result.stdout + result.stderr
    steps = {}
    for line in log.splitlines():
        step, _, text = line.partition(" ")
        if step.startswith("#") and "uv sync" in text:
            steps[step] = text
    assert steps, log[-3000:]
    for step, text in steps.items():
        assert f"{step} CACHED" in log, f"reinstalled after a source-only change: {text}"
    assert "COPY backend/ /app/" in log
    run(["docker", "image", "rm", "desideliver-backend:stacktest-rebuild"], check=False)


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("THIS IS NOT A VARIABLE", "line 2: key cannot contain a space"),
        ('"UNCLOSED=abc', "line 2: unexpected character"),
    ],
)
def test_a_malformed_env_file_line_is_reported_with_its_line_number(tmp_path, line, complaint):
    shutil.copy(REPO_DIR / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text(f"DEBUG=true\n{line}\n")
    result = run(
        ["docker", "compose", "-f", str(tmp_path / "docker-compose.yml"), "config", "--quiet"],
        env=clean_env(),
        check=False,
    )
    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_malformed_value_stops_the_backend_with_one_line(dev_stack):
    result = dev_stack.compose(
        "run", "--rm", "--no-deps", "-e", "DEBUG=maybe", "backend", "python", "manage.py", "check", check=False
    )
    assert result.returncode != 0
    assert (
        result.stderr.strip().splitlines()[-1]
        == "configuration error: DEBUG must be true or false, got 'maybe' (see .env.example)"
    )
    assert "Traceback" not in result.stderr


def fake_docker(tmp_path, version: str):
    """A `docker` that reports an engine version and records the commands it is given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        f'#!/bin/sh\nif [ "$1" = version ]; then echo {version}; exit 0; fi\necho "$*" >> {tmp_path / "calls"}\n'
    )
    docker.chmod(0o755)
    return clean_env(PATH=f"{bin_dir}:{clean_env()['PATH']}")


@pytest.mark.parametrize(
    ("version", "files"),
    [
        ("25.0.3", "compose -f docker-compose.yml -f docker-compose.engine25.yml ps"),
        ("28.1.1", "compose -f docker-compose.yml -f docker-compose.engine25.yml ps"),
        ("20.10.24+dfsg1", "compose ps"),
    ],
)
def test_scripts_dev_probes_starting_services_every_second_where_the_engine_can(tmp_path, version, files):
    run([str(REPO_DIR / "scripts" / "dev"), "ps"], env=fake_docker(tmp_path, version))
    assert (tmp_path / "calls").read_text().splitlines() == [files]


def test_the_engine25_file_gives_every_probed_dev_service_a_start_interval():
    def services(*files):
        args = [arg for name in files for arg in ("-f", name)]
        rendered = run(["docker", "compose", *args, "config", "--format", "json"], env=clean_env()).stdout
        return json.loads(rendered)["services"]

    plain = services("docker-compose.yml")
    engine25 = services("docker-compose.yml", "docker-compose.engine25.yml")
    probed = {name for name, service in plain.items() if "healthcheck" in service}
    assert probed == {name for name, service in engine25.items() if service["healthcheck"].get("start_interval")}
    for name in probed:
        assert engine25[name]["healthcheck"]["start_interval"] == "1s"
        # Everything else about the probe is docker-compose.yml's.
        assert {k: v for k, v in engine25[name]["healthcheck"].items() if k != "start_interval"} == plain[name][
            "healthcheck"
        ]
