"""Point-in-time recovery: the production stack's database archives its WAL with pgBackRest
into a bucket of a real S3 server (moto's, behind TLS signed by a private CA), encrypted with
the operator's passphrase, and the backup service takes the base backup. A destroyed
database volume comes back with every order that was archived, or as it was at a moment
between two orders; a wrong passphrase, a damaged backup or an empty bucket fails the
restore in one line and leaves the live database as it was.

The module replaces the stack's database volume: it runs last on its stack
(conftest.LAST_IN_GROUP) and hands the stack back on its default, local repository."""

import json
import re
import socket
import subprocess
import uuid

import boto3
import pytest

from tests.stack.certificates import certificate_authority
from tests.stack.stack import REPO_DIR, metrics, place_order, run, sample, wait_for
from tests.stack.tls_proxy import TLSProxy

S3_PORT = 18106  # HTTPS (pgBackRest speaks nothing else to S3), in front of moto's plain HTTP
MOTO_PORT = 18107
BUCKET = "desideliver-wal"
EMPTY_BUCKET = "desideliver-wal-empty"
ARCHIVE_TIMEOUT = "2"  # seconds: production's 60, shortened so the test waits little
# The compose file that gives the database and the backup service their way out to S3.
WITH_S3 = ("-f", "deploy/backup/s3-repository.yml")


def gateway(stack, network: str) -> str:
    """The host's address on one of the stack's networks."""
    inspected = json.loads(run(["docker", "network", "inspect", f"{stack.project}_{network}"]).stdout)[0]
    return inspected["IPAM"]["Config"][0]["Gateway"]


@pytest.fixture(scope="module")
def wal_bucket(prod_stack, tmp_path_factory):
    """The stack's db and backup services on an encrypted S3 repository; yields (env, bucket)."""
    directory = tmp_path_factory.mktemp("pitr")
    prod_stack.compose(*WITH_S3, "up", "--no-start", "--no-build", "db", "backup")  # the network, for its address
    address = gateway(prod_stack, "backup-egress")
    ca, cert, key = certificate_authority(directory, address)
    server = subprocess.Popen(
        [str(REPO_DIR / ".venv-stack" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(MOTO_PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = TLSProxy((address, S3_PORT), ("127.0.0.1", MOTO_PORT), str(cert), str(key)).__enter__()
    passphrase, s3_secret = directory / "passphrase", directory / "s3-secret"
    passphrase.write_text("a passphrase the operator keeps off the server\n")
    s3_secret.write_text("stack-test-wal-secret-key\n")
    for secret in (passphrase, s3_secret):
        secret.chmod(0o644)
    env = {
        **prod_stack.env,
        "COMPOSE_FILE": "docker-compose.prod.yml:deploy/backup/s3-repository.yml",  # for scripts/db
        "PGBACKREST_REPO1_TYPE": "s3",
        "PGBACKREST_REPO1_S3_BUCKET": BUCKET,
        "PGBACKREST_REPO1_PATH": "/desideliver",
        "PGBACKREST_REPO1_S3_ENDPOINT": address,
        "PGBACKREST_REPO1_STORAGE_PORT": str(S3_PORT),
        "PGBACKREST_REPO1_S3_REGION": "us-east-1",
        "PGBACKREST_REPO1_S3_URI_STYLE": "path",
        "PGBACKREST_REPO1_S3_KEY": "wal",
        "PGBACKREST_REPO1_S3_KEY_SECRET_FILE": str(s3_secret),
        "PGBACKREST_REPO1_STORAGE_CA_FILE": str(ca),
        "PGBACKREST_REPO1_CIPHER_PASS_FILE": str(passphrase),
        "ARCHIVE_TIMEOUT": ARCHIVE_TIMEOUT,
    }
    try:
        bucket = boto3.client(
            "s3",
            endpoint_url=f"https://{address}:{S3_PORT}",
            region_name="us-east-1",
            aws_access_key_id="wal",
            aws_secret_access_key="x",
            verify=str(ca),
        )
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", MOTO_PORT), timeout=1).close() or True, timeout=30, what="S3"
        )
        bucket.create_bucket(Bucket=BUCKET)
        bucket.create_bucket(Bucket=EMPTY_BUCKET)
        since = run(["date", "+%s"]).stdout.strip()
        prod_stack.compose(*WITH_S3, "up", "--detach", "--wait", "--no-build", "db", env=env)
        prod_stack.compose(*WITH_S3, "up", "--detach", "--no-build", "backup", env=env)
        # The backup service's first run: the stanza, a full base backup, the dump.
        wait_for(
            lambda: "base backup" in prod_stack.compose("logs", "--since", since, "backup", env=env).stdout,
            timeout=120,
            what="the first base backup",
        )
        assert bucket.list_objects_v2(Bucket=BUCKET, Prefix="desideliver/backup/")["KeyCount"] > 0
        yield env, bucket
    finally:
        prod_stack.compose("rm", "--stop", "--force", "backup", check=False)
        prod_stack.compose("up", "--detach", "--wait", "--no-build", "db", "backup", check=False)
        # The route out that only deploy/backup/s3-repository.yml declares: the stack's own `down` never sees it.
        run(["docker", "network", "rm", f"{prod_stack.project}_backup-egress"], check=False)
        proxy.__exit__()
        server.terminate()
        server.wait(timeout=10)


def restore(stack, env, *args: str, check: bool = True):
    return run([str(REPO_DIR / "scripts" / "db"), "--prod", "restore", *args], env=env, check=check, cwd=REPO_DIR)


def archived(stack, env) -> None:
    """Waits until the segment holding every write so far is in the repository. 60 s was
    once not enough in CI, on a CPU the three stacks kept saturated: 120, and a timeout
    says what PostgreSQL's archiver last did."""
    segment = stack.psql("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").strip()
    try:
        wait_for(
            lambda: stack.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").strip() >= segment,
            timeout=120,
            what=f"WAL segment {segment} archived",
        )
    except AssertionError as error:
        archiver = stack.psql(
            "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal,"
            " last_failed_time FROM pg_stat_archiver"
        )
        raise AssertionError(f"{error}; pg_stat_archiver: {archiver.strip()}") from None


def order_ids(stack) -> set[int]:
    return {int(row) for row in stack.psql("SELECT id FROM orders_order").split()}


def test_each_dump_goes_to_the_bucket_encrypted_and_the_media_files_once(prod_stack, wal_bucket, tmp_path):
    """The nightly dump off the server: in the WAL's bucket, encrypted with the repository's
    passphrase (readable with openssl and that passphrase alone), the BACKUP_KEEP newest
    kept there; the media files copied once each, the ones already there not again."""
    env, bucket = wal_bucket
    photo = f"products/off-server-{uuid.uuid4().hex[:8]}.txt"
    prod_stack.exec("backend", "sh", "-c", f"mkdir -p /app/media/products && echo namaste > /app/media/{photo}")
    once = ("--profile", "backup", "run", "--rm", "--no-deps", "-e", "BACKUP_INTERVAL=", "-e", "BACKUP_KEEP=1")

    def backup_once() -> str:
        result = prod_stack.compose(*WITH_S3, *once, "-e", "BACKUP_DRILL_INTERVAL=0", "backup", env=env)
        return next(line for line in result.stdout.splitlines() if line.startswith("backup ok "))

    first, second = backup_once(), backup_once()
    assert ", copied to s3://desideliver-wal/desideliver/dumps/desideliver-prod-" in first, first
    assert re.search(r", [1-9]\d* new media files to s3://desideliver-wal/desideliver/media/", first), first
    assert ", 0 new media files" in second, "what is in the bucket already is not copied again: " + second

    stored = bucket.list_objects_v2(Bucket=BUCKET, Prefix="desideliver/dumps/")["Contents"]
    assert [entry["Key"] for entry in stored] == [re.search(r"copied to s3://desideliver-wal/(\S+),", second)[1]]
    encrypted = tmp_path / "dump.enc"
    encrypted.write_bytes(bucket.get_object(Bucket=BUCKET, Key=stored[0]["Key"])["Body"].read())
    assert not encrypted.read_bytes().startswith(b"PGDMP"), "the copy is encrypted"
    passphrase = env["PGBACKREST_REPO1_CIPHER_PASS_FILE"]
    decrypted = tmp_path / "dump"
    run(["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", "100000", "-pass", f"file:{passphrase}",
         "-in", encrypted, "-out", decrypted])  # fmt: skip
    assert decrypted.read_bytes().startswith(b"PGDMP")
    assert decrypted.stat().st_size == int(re.search(r"\.dump (\d+) bytes", second)[1]), (
        "the same dump as on the server"
    )
    media = bucket.get_object(Bucket=BUCKET, Key=f"desideliver/media/{photo}")["Body"].read()
    assert media == b"namaste\n"


def test_a_lost_database_volume_comes_back_to_the_last_archived_order_or_to_a_point_in_time(
    prod_stack, shopper, wal_bucket
):
    env, bucket = wal_bucket
    status, first = place_order(prod_stack, shopper)
    assert status == 201
    archived(prod_stack, env)
    between = prod_stack.psql("SELECT now()").strip()
    status, second = place_order(prod_stack, shopper)
    assert status == 201
    archived(prod_stack, env)
    # The worker serves the archiver's state, for the WalArchivingFailing alert.
    last_archived = float(prod_stack.psql("SELECT extract(epoch FROM last_archived_time) FROM pg_stat_archiver"))
    served = metrics(prod_stack, "worker")
    assert sample(served, "desideliver_wal_archive_last_success_timestamp_seconds") >= last_archived
    assert sample(served, "desideliver_wal_archive_failures_total") is not None
    # The repository holds no plain data: pgBackRest encrypted what it wrote (OpenSSL's
    # salted format, where a plain segment would start with zstd's magic number).
    segments = bucket.list_objects_v2(Bucket=BUCKET, Prefix="desideliver/archive/desideliver/17-1/")["Contents"]
    assert all(bucket.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read(8) == b"Salted__" for item in segments)

    # The database volume is lost.
    prod_stack.compose("rm", "--stop", "--force", "db", "backup", env=env)
    run(["docker", "volume", "rm", f"{prod_stack.project}_postgres-data"])

    latest = restore(prod_stack, env, "--latest", "--yes")
    assert "recovery point:" in latest.stdout, latest.stdout
    assert {first["id"], second["id"]} <= order_ids(prod_stack), latest.stdout
    prod_stack.wait_ready()

    to_time = restore(prod_stack, env, "--to", between, "--yes")
    ids = order_ids(prod_stack)
    assert first["id"] in ids and second["id"] not in ids, to_time.stdout
    prod_stack.wait_ready()


def test_a_wrong_passphrase_a_damaged_backup_or_an_empty_bucket_fails_in_one_line(prod_stack, wal_bucket, tmp_path):
    env, bucket = wal_bucket
    prod_stack.compose(*WITH_S3, "up", "--detach", "--wait", "--no-build", "db", env=env)
    before = prod_stack.psql("SELECT count(*) FROM orders_order").strip()
    wrong = tmp_path / "wrong-passphrase"
    wrong.write_text("not the passphrase\n")
    wrong.chmod(0o644)
    # The newest base backup's largest file, cut short (and put back after).
    pages = bucket.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="desideliver/backup/desideliver/")
    backup_files = [item for page in pages for item in page["Contents"]]
    labels = {item["Key"].split("/")[3] for item in backup_files}
    newest = max(label for label in labels if label[:1].isdigit())
    largest = max(
        (item for item in backup_files if f"/{newest}/pg_data/" in item["Key"]), key=lambda item: item["Size"]
    )
    whole = bucket.get_object(Bucket=BUCKET, Key=largest["Key"])["Body"].read()
    cases = {
        "wrong passphrase": ({**env, "PGBACKREST_REPO1_CIPHER_PASS_FILE": str(wrong)}, None),
        "empty bucket": ({**env, "PGBACKREST_REPO1_S3_BUCKET": EMPTY_BUCKET}, None),
        "damaged backup": (env, whole[: len(whole) // 2]),
    }
    unreadable = restore(prod_stack, env, "--to", "half past the order", "--yes", check=False)
    assert unreadable.returncode == 1
    assert unreadable.stderr.strip().startswith("error: --to needs a time such as"), unreadable.stderr
    for case, (case_env, damaged) in cases.items():
        if damaged is not None:
            bucket.put_object(Bucket=BUCKET, Key=largest["Key"], Body=damaged)
        try:
            result = restore(prod_stack, case_env, "--latest", "--yes", check=False)
        finally:
            bucket.put_object(Bucket=BUCKET, Key=largest["Key"], Body=whole)
        assert result.returncode == 1, (case, result.stdout, result.stderr)
        complaint = result.stderr.strip().splitlines()
        assert len(complaint) == 1, (case, complaint)
        assert complaint[0].startswith("error: restore failed, the live database is untouched: "), (case, complaint)
        assert prod_stack.psql("SELECT count(*) FROM orders_order").strip() == before, case
    # No scratch volume is left behind.
    assert not run(["docker", "volume", "ls", "-q", "--filter", "label=desideliver.restore"]).stdout.strip()
