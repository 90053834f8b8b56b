"""TLS to PostgreSQL, as with a managed server (DB_SSLMODE, DB_SSLROOTCERT): the production
image's libpq, on the base image's OpenSSL (scripts/slim-venv.sh), reaches a server that
has ssl on, checks its certificate against the operator's CA and its name against DB_HOST,
and the app's queries travel encrypted."""

import secrets
import uuid

import pytest

from tests.stack.certificates import certificate_authority
from tests.stack.conftest import PROD_SECRETS
from tests.stack.stack import run, wait_for

SERVER_NAME = "managed-db"  # the name on the server's certificate
OTHER_NAME = "replica-db"  # the same server under a name its certificate does not carry
PASSWORD = secrets.token_urlsafe(16)  # the server's; PROD_SECRETS has the stacks'


@pytest.fixture(scope="module")
def tls_database(production_database_image, tmp_path_factory):
    """PostgreSQL (the stack's database image) with ssl on, a certificate for SERVER_NAME
    from a private CA: yields (network, certificates' directory)."""
    directory = tmp_path_factory.mktemp("database-tls")
    directory.chmod(0o755)  # the app (uid 1000) reads the CA; the key stays 0600, for root
    certificate_authority(directory, SERVER_NAME)
    suffix = uuid.uuid4().hex[:8]
    network, server = f"desideliver-stacktest-dbtls-{suffix}", f"desideliver-stacktest-dbtls-{suffix}-db"
    run(["docker", "network", "create", network])
    # PostgreSQL refuses a key file others can read: the image's user gets its own copy.
    start = (
        "install -o postgres -g postgres -m 0600 /certs/key.pem /certs/cert.pem /var/lib/postgresql/"
        " && exec docker-entrypoint.sh postgres -c ssl=on -c ssl_cert_file=/var/lib/postgresql/cert.pem"
        " -c ssl_key_file=/var/lib/postgresql/key.pem"
    )
    run([
        "docker", "run", "--detach", "--name", server, "--network", network,
        "--network-alias", SERVER_NAME, "--network-alias", OTHER_NAME,
        "--env", "POSTGRES_USER=desideliver", "--env", "POSTGRES_DB=desideliver",
        "--env", f"POSTGRES_PASSWORD={PASSWORD}",
        "--volume", f"{directory}:/certs:ro", "--entrypoint", "bash", production_database_image, "-c", start,
    ])  # fmt: skip
    try:
        wait_for(
            lambda: run(["docker", "exec", server, "pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0,
            timeout=60,
            what="PostgreSQL with ssl on",
        )
        yield network, directory
    finally:
        run(["docker", "rm", "--force", "--volumes", server], check=False)
        run(["docker", "network", "rm", network], check=False)


def app_query(production_image, tls_database, host: str):
    """One query with the app's own database settings, from the production image, to HOST
    with verify-full."""
    network, directory = tls_database
    query = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')\n"
        "    print(*cursor.fetchone())"
    )
    app_env = {
        **PROD_SECRETS,  # the suite's production settings (console email)
        "DB_HOST": host, "DB_NAME": "desideliver", "DB_USER": "desideliver", "DB_PASSWORD": PASSWORD,
        "DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": "/certs/ca.pem",
        "REDIS_URL": "redis://redis:6379/0",  # never asked: the query needs only the database
    }  # fmt: skip
    options = [option for name, value in app_env.items() for option in ("--env", f"{name}={value}")]
    return run(
        ["docker", "run", "--rm", "--network", network, "--volume", f"{directory}:/certs:ro", *options,
         production_image, "python", "manage.py", "shell", "--command", query],
        check=False,
        timeout=60,
    )  # fmt: skip


def test_the_app_verifies_the_servers_certificate_and_queries_over_tls(production_image, tls_database):
    result = app_query(production_image, tls_database, SERVER_NAME)
    assert result.returncode == 0, result.stderr[-2000:]
    encrypted, version = result.stdout.split()[-2:]
    assert (encrypted, version) == ("True", "TLSv1.3"), result.stdout


def test_a_certificate_for_another_name_is_refused(production_image, tls_database):
    result = app_query(production_image, tls_database, OTHER_NAME)
    assert result.returncode != 0
    assert f'server certificate for "{SERVER_NAME}" does not match host name "{OTHER_NAME}"' in result.stderr, (
        result.stderr[-2000:]
    )
