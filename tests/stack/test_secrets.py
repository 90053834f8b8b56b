"""Secrets as files (Docker secrets) instead of environment variables, and rotating passwords."""

import secrets
from pathlib import Path

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


def test_rotating_the_passwords_in_their_secret_files(stack_with_secret_files):
    """The documented rotation (docs/DEPLOY.md, "Rotating credentials") with secret files,
    replaced as an editor saves them: compose cannot see a file's content, so
    `up --force-recreate` (the next test rotates the variables' form)."""
    stack, values = stack_with_secret_files
    new_db, new_redis = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    rotate_database_password(stack, new_db)
    for name, value in (("DB_PASSWORD", new_db), ("REDIS_PASSWORD", new_redis)):
        path = Path(stack.extra_env[f"{name}_FILE"])
        replacement = path.with_name(path.name + ".new")
        replacement.write_text(value + "\n")
        replacement.chmod(0o444)
        replacement.replace(path)
    stack.up("--force-recreate")
    assert_passwords(stack, (new_db, new_redis), refused=(values["DB_PASSWORD"], values["REDIS_PASSWORD"]))


def test_rotating_the_database_and_redis_passwords(prod_stack):
    """The same rotation in variables, on the shared production stack: `up` recreates what
    reads them. The stack keeps the new passwords; later tests read them from its environment."""
    old_db, old_redis = prod_stack.extra_env["DB_PASSWORD"], prod_stack.extra_env["REDIS_PASSWORD"]
    new_db, new_redis = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    rotate_database_password(prod_stack, new_db)
    prod_stack.extra_env.update(DB_PASSWORD=new_db, REDIS_PASSWORD=new_redis)
    prod_stack.up()
    assert_passwords(prod_stack, (new_db, new_redis), refused=(old_db, old_redis))


def rotate_database_password(stack, password: str) -> None:
    """Changes the role's password, as the stack's operator does first."""
    run([str(REPO_DIR / "scripts" / "db"), "--prod", "rotate-password"], env=stack.env, input=password + "\n")


def assert_passwords(stack, current: tuple[str, str], refused: tuple[str, str]) -> None:
    """The stack serves on the ``current`` database and Redis passwords; the ``refused`` ones fail."""
    stack.wait_ready(timeout=60)
    assert http("GET", stack.url("/api/products/")).status == 200
    accepted = database_login(stack, current[0])
    assert accepted.returncode == 0, accepted.stderr
    stale = database_login(stack, refused[0])
    assert stale.returncode != 0 and "password authentication failed" in stale.stderr
    assert redis_ping(stack, current[1]).strip() == "PONG"
    assert "PONG" not in redis_ping(stack, refused[1])


def database_login(stack, password: str):
    login = f'PGPASSWORD={password} psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c ""'
    return stack.exec("db", "sh", "-c", login, check=False)


def redis_ping(stack, password: str) -> str:
    return stack.exec("redis", "redis-cli", "ping", env={"REDISCLI_AUTH": password}, check=False).stdout
