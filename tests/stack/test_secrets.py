"""Secrets as files (Docker secrets) instead of environment variables: this module's
stack (prod-stack-files, conftest.py) has every secret in a file, as do the other
modules' that share it; here, what the containers see, and rotating the passwords."""

import secrets
from pathlib import Path

from tests.stack.conftest import SECRETS_IN_FILES
from tests.stack.rotation import assert_passwords, redis_ping, rotate_database_password
from tests.stack.stack import http


def secret(stack, name: str) -> str:
    return Path(stack.extra_env[f"{name}_FILE"]).read_text().strip()


def test_the_stack_runs_on_secret_files_alone(prod_stack):
    ready = http("GET", prod_stack.url("/health/ready/"))
    assert ready.status == 200, ready.body
    backend_env = prod_stack.inspect("backend")["Config"]["Env"]
    for name in SECRETS_IN_FILES:
        assert f"{name}=" in backend_env and f"{name}={secret(prod_stack, name)}" not in backend_env, name
        assert f"{name}_FILE=/run/secrets/{name.lower()}" in backend_env
    settings = "from django.conf import settings; print(settings.SECRET_KEY)"
    assert prod_stack.django_shell(settings) == secret(prod_stack, "SECRET_KEY")
    refused = prod_stack.exec("redis", "redis-cli", "ping", check=False)
    assert "NOAUTH" in refused.stdout + refused.stderr
    assert redis_ping(prod_stack, secret(prod_stack, "REDIS_PASSWORD")).strip() == "PONG"


def test_the_redis_exporter_reads_the_password_file(prod_stack):
    """The monitoring profile's exporter takes the secret file the Redis services read
    (docker-compose.prod.yml, redis-exporter), not its own JSON form of it."""
    prod_stack.compose("--profile", "monitoring", "up", "--detach", "--wait", "--no-deps", "redis-exporter")
    try:
        scraped = prod_stack.exec(
            "redis-exporter", "wget", "-q", "-O", "-", "http://127.0.0.1:9121/scrape?target=redis://redis:6379"
        )
        assert "\nredis_up 1\n" in scraped.stdout
    finally:
        prod_stack.compose("--profile", "monitoring", "rm", "--stop", "--force", "redis-exporter")


def test_rotating_the_passwords_in_their_secret_files(prod_stack):
    """The documented rotation (docs/DEPLOY.md, "Rotating credentials") with secret files,
    replaced as an editor saves them: compose cannot see a file's content, so
    `up --force-recreate` (test_prod_stack rotates the variables' form)."""
    old_db, old_redis = secret(prod_stack, "DB_PASSWORD"), secret(prod_stack, "REDIS_PASSWORD")
    new_db, new_redis = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    rotate_database_password(prod_stack, new_db)
    for name, value in (("DB_PASSWORD", new_db), ("REDIS_PASSWORD", new_redis)):
        path = Path(prod_stack.extra_env[f"{name}_FILE"])
        replacement = path.with_name(path.name + ".new")
        replacement.write_text(value + "\n")
        replacement.chmod(0o444)
        replacement.replace(path)
    prod_stack.up("--force-recreate")
    assert_passwords(prod_stack, (new_db, new_redis), refused=(old_db, old_redis))
