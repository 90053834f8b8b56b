"""Rotating the database and Redis passwords as docs/DEPLOY.md ("Rotating credentials")
says, and checking which passwords a stack accepts afterwards: for the variables' form
(test_prod_stack) and the secret files' form (test_secrets)."""

from tests.stack.stack import REPO_DIR, http, run


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
