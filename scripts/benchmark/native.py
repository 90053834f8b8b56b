"""The same Gunicorn in Docker and from a host virtualenv."""

import os
import statistics
import subprocess
import sys

from tests.stack.lockfile import runtime_pins

from .common import HTTPS, PROD_ENV, REPO, compose, get, report, sh, wait_until
from .dev import DEV_PORT, DEV_PROJECT, dev_stack_env
from .measure import wrk


def section_native(args) -> None:
    project, port, env = DEV_PROJECT, DEV_PORT, dev_stack_env()
    compose(project, "docker-compose.yml", "up", "-d", "--wait", env=env)
    compose(project, "docker-compose.yml", "exec", "-T", "backend", "python", "manage.py", "seed_demo", env=env)
    compose(project, "docker-compose.prod.yml", "build", "backend", env=PROD_ENV)
    venv = REPO / ".bench" / "venv"
    if not (venv / "bin" / "pip").exists():
        sh(sys.executable, "-m", "venv", str(venv))
    pins = [f"{name}=={version}" for name, version in runtime_pins().items()]
    sh(str(venv / "bin" / "pip"), "install", "-q", *pins)  # the lock may have moved
    common = {
        "SECRET_KEY": PROD_ENV["SECRET_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_NAME": "desideliver_dev",
        "DB_USER": "desideliver",
        "DB_PASSWORD": "desideliver-bench-only",
        "REDIS_PASSWORD": PROD_ENV["REDIS_PASSWORD"],
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    # Production settings refuse a Redis without a password: the dev stack's Redis gets the
    # bench's, after its own backend, worker and beat (which have none) are stopped; that
    # also keeps their CPU out of the measurement.
    compose(project, "docker-compose.yml", "stop", "backend", "worker", "beat", env=env)
    compose(project, "docker-compose.yml", "exec", "-T", "redis", "redis-cli", "CONFIG", "SET", "requirepass",
            PROD_ENV["REDIS_PASSWORD"], env=env)  # fmt: skip
    # The dev database's password is a development value production settings refuse; give it a bench one.
    compose(
        project,
        "docker-compose.yml",
        "exec",
        "-T",
        "db",
        "sh",
        "-c",
        'psql -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "ALTER ROLE desideliver PASSWORD \'desideliver-bench-only\'"',
        env=env,
    )
    docker_port, native_port = 19201, 19202
    sh("docker", "rm", "-f", "desideliver-bench-docker", check=False)
    # Requests come from the published port's gateway (Docker) or from 127.0.0.1 (native):
    # untrusted, their X-Forwarded-Proto would be dropped and every answer an HTTPS redirect.
    docker_only = {"DB_HOST": "db", "REDIS_URL": "redis://redis:6379/0", "TRUSTED_PROXIES": "docker-gateway"}
    docker_args = [f"-e{k}={v}" for k, v in {**common, **docker_only}.items()]
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        "desideliver-bench-docker",
        "--cpus",
        "2",
        "--network",
        f"{project}_default",
        "-p",
        f"127.0.0.1:{docker_port}:8000",
        "-e",
        "DJANGO_MIGRATE_ON_START=false",
        *docker_args,
        PROD_ENV["BACKEND_IMAGE"],
    )
    native_env = {
        **common,
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(port + 1),
        "REDIS_URL": f"redis://127.0.0.1:{port + 2}/0",
        "PORT": str(native_port),
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.production",
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    native = subprocess.Popen(
        [
            str(venv / "bin" / "gunicorn"),
            "--config",
            "python:desideliver_backend.runtime.gunicorn_conf",
            "desideliver_backend.wsgi",
        ],
        cwd=REPO / "backend",
        env={**os.environ, **native_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for p in (docker_port, native_port):
            if wait_until(lambda p=p: get(f"http://127.0.0.1:{p}/api/products/", HTTPS) == 200, 60, 0.2) is None:
                sys.exit(f"bench: the cached list on port {p} never answered 200 (a redirect measures nothing)")
        seconds = 5 if args.quick else 15
        results = {}
        for name, p in (
            ("docker", docker_port),
            ("native", native_port),
            ("docker2", docker_port),
            ("native2", native_port),
        ):
            results[name] = wrk(f"http://127.0.0.1:{p}/api/products/", seconds)
        docker_rps = statistics.mean([results["docker"]["rps"], results["docker2"]["rps"]])
        native_rps = statistics.mean([results["native"]["rps"], results["native2"]["rps"]])
        report(
            "cached product list, Docker vs native",
            f"Docker {docker_rps:.0f} req/s",
            f"native {native_rps:.0f} req/s",
            "ratio <= 1.05",
            f"cost ratio native/Docker = {native_rps / docker_rps:.3f}; same Gunicorn config, "
            "same PostgreSQL and Redis, alternating wrk runs",
            measured=native_rps / docker_rps,
        )
    finally:
        native.terminate()
        native.wait(timeout=30)
        sh("docker", "rm", "-f", "desideliver-bench-docker", check=False)
        compose(project, "docker-compose.yml", "down", "-v", env=env, check=False)
