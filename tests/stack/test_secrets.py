"""Secrets as files (Docker secrets) instead of environment variables, and rotating passwords."""

import secrets

import pytest

from tests.stack.stack import REPO_DIR, Stack, edge_env, http, run

PORT = 18300


@pytest.fixture(scope="module")
def stack_with_secret_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secrets")
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DB_PASSWORD": secrets.token_urlsafe(16),
        "REDIS_PASSWORD": secrets.token_urlsafe(24),
    }
    env = {
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        **edge_env(PORT),
    }
    for name, value in values.items():
        path = folder / name.lower()
        path.write_text(value + "\n")
        path.chmod(0o444)  # the backend reads it as uid 1000
        env[name] = ""  # the documented form: empty variable, NAME_FILE names the file
        env[f"{name}_FILE"] = str(path)
    stack = Stack("desideliver-stacktest-secrets", "docker-compose.prod.yml", PORT, env, scheme="https")
    stack.down("--volumes")
    stack.up()
    stack.trust_edge()
    yield stack, values
    stack.down("--volumes")


def test_the_stack_runs_on_secret_files_alone(stack_with_secret_files):
    stack, values = stack_with_secret_files
    ready = http("GET", stack.url("/health/ready/"))
    assert ready.status == 200, ready.body
    backend_env = stack.inspect("backend")["Config"]["Env"]
    for name, value in values.items():
        assert f"{name}=" in backend_env and f"{name}={value}" not in backend_env, name
        assert f"{name}_FILE=/run/secrets/{name.lower()}" in backend_env
    assert stack.django_shell("from django.conf import settings; print(settings.SECRET_KEY)") == values["SECRET_KEY"]
    refused = stack.exec("redis", "redis-cli", "ping", check=False)
    assert "NOAUTH" in refused.stdout + refused.stderr
    assert (
        stack.exec("redis", "redis-cli", "ping", env={"REDISCLI_AUTH": values["REDIS_PASSWORD"]}).stdout.strip()
        == "PONG"
    )


def test_the_redis_exporter_reads_the_password_file(stack_with_secret_files):
    """The monitoring profile's exporter takes the secret file the Redis services read
    (docker-compose.prod.yml, redis-exporter), not its own JSON form of it."""
    stack, _ = stack_with_secret_files
    stack.compose("--profile", "monitoring", "up", "--detach", "--wait", "--no-deps", "redis-exporter")
    try:
        scraped = stack.exec(
            "redis-exporter", "wget", "-q", "-O", "-", "http://127.0.0.1:9121/scrape?target=redis://redis:6379"
        )
        assert "\nredis_up 1\n" in scraped.stdout
    finally:
        stack.compose("--profile", "monitoring", "rm", "--stop", "--force", "redis-exporter")


def test_rotating_the_database_and_redis_passwords(prod_stack):
    new_db, new_redis = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    old_env = dict(prod_stack.extra_env)
    # Database: change the role's password, then give the stack the new one.
    run([str(REPO_DIR / "scripts" / "db"), "--prod", "rotate-password"], env=prod_stack.env, input=new_db + "\n")
    # Redis: the new password takes effect when the stack is recreated with it.
    prod_stack.extra_env.update(DB_PASSWORD=new_db, REDIS_PASSWORD=new_redis)
    try:
        prod_stack.up()
        prod_stack.wait_ready(timeout=60)
        assert http("GET", prod_stack.url("/api/products/")).status == 200
        old_login = prod_stack.exec(
            "db",
            "sh",
            "-c",
            f'PGPASSWORD={old_env["DB_PASSWORD"]} psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c ""',
            check=False,
        )
        assert old_login.returncode != 0 and "password authentication failed" in old_login.stderr
        assert prod_stack.redis_cli("ping").stdout.strip() == "PONG"
        stale = prod_stack.exec(
            "redis", "redis-cli", "ping", env={"REDISCLI_AUTH": old_env["REDIS_PASSWORD"]}, check=False
        )
        assert "PONG" not in stale.stdout
    finally:
        # Later tests expect the session's passwords: rotate back the same way.
        run(
            [str(REPO_DIR / "scripts" / "db"), "--prod", "rotate-password"],
            env=prod_stack.env,
            input=old_env["DB_PASSWORD"] + "\n",
        )
        prod_stack.extra_env.update(old_env)
        prod_stack.up()
