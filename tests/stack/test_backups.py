"""Backups and restore with scripts/db, on the running production stack."""

import base64
import os
import tarfile
import time
import uuid

import pytest

from tests.stack.stack import REPO_DIR, database_fingerprint, http, metrics, register_and_login, run, sample, wait_for


@pytest.fixture
def backup_dir(tmp_path):
    return tmp_path / "backups"


def db(stack, backup_dir, *args, check=True):
    env = {**stack.env, "BACKUP_DIR": str(backup_dir)}
    return run([str(REPO_DIR / "scripts" / "db"), "--prod", *args], env=env, check=check)


def test_backup_then_restore_gives_back_exactly_the_backed_up_database(prod_stack, backup_dir):
    register_and_login(prod_stack, f"kept-{uuid.uuid4().hex[:6]}@example.in")
    before = database_fingerprint(prod_stack)
    backup = db(prod_stack, backup_dir, "backup").stdout.split()[0]
    assert backup.endswith(".dump")
    assert oct(os.stat(backup).st_mode & 0o777) == "0o600", "a dump is for its owner's eyes only"
    assert db(prod_stack, backup_dir, "list").stdout.split()[0] == backup

    # A change after the backup, with the backend holding its connections open.
    register_and_login(prod_stack, f"later-{uuid.uuid4().hex[:6]}@example.in")
    assert database_fingerprint(prod_stack) != before

    result = db(prod_stack, backup_dir, "restore", backup, "--yes")
    assert "restored" in result.stdout
    assert database_fingerprint(prod_stack) == before
    # The backend recovers on its own from the sessions the restore ended.
    assert http("GET", prod_stack.url("/health/ready/")).status == 200
    assert http("GET", prod_stack.url("/api/products/")).status == 200


def test_restore_needs_yes_and_touches_nothing_without_it(prod_stack, backup_dir):
    backup = db(prod_stack, backup_dir, "backup").stdout.split()[0]
    before = database_fingerprint(prod_stack)
    result = db(prod_stack, backup_dir, "restore", backup, check=False)
    assert result.returncode != 0
    assert "--yes" in result.stderr
    assert database_fingerprint(prod_stack) == before


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "foreign", "empty", "not-postgres"])
def test_a_bad_file_is_refused_and_the_database_is_left_as_it_was(prod_stack, backup_dir, damage, tmp_path):
    good = (REPO_DIR / db(prod_stack, backup_dir, "backup").stdout.split()[0]).read_bytes()
    bad = tmp_path / f"{damage}.dump"
    if damage == "truncated":
        bad.write_bytes(good[: len(good) * 2 // 3])
    elif damage == "corrupt":
        middle = len(good) // 2
        bad.write_bytes(good[:middle] + bytes(b ^ 0xFF for b in good[middle : middle + 512]) + good[middle + 512 :])
    elif damage == "foreign":  # a valid archive, of another database
        dump = prod_stack.exec("db", "sh", "-c", 'pg_dump -Fc -U "$POSTGRES_USER" -d postgres | base64').stdout
        bad.write_bytes(base64.b64decode(dump))
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_text("-- just some SQL\nDROP TABLE users_user;\n")
    before = database_fingerprint(prod_stack)
    result = db(prod_stack, backup_dir, "restore", str(bad), "--yes", check=False)
    assert result.returncode != 0
    assert result.stderr.startswith("error: ")
    assert database_fingerprint(prod_stack) == before


def test_prune_keeps_the_newest(prod_stack, backup_dir):
    names = []
    for stamp in ("20260101T000000Z", "20260201T000000Z", "20260301T000000Z"):
        backup_dir.mkdir(exist_ok=True)
        path = backup_dir / f"desideliver-prod-{stamp}.dump"
        path.write_bytes(b"x")
        names.append(path)
    for age, path in enumerate(reversed(names)):
        run(["touch", "-d", f"{age} days ago", str(path)])
    db(prod_stack, backup_dir, "prune", "--keep", "1")
    assert [p.name for p in backup_dir.iterdir()] == [names[-1].name]


def drill_databases(stack) -> list[str]:
    return stack.psql("SELECT datname FROM pg_database WHERE datname LIKE 'desideliver_drill_%'").split()


def test_a_drill_restores_the_newest_backup_beside_the_live_database_and_drops_it(prod_stack, backup_dir):
    register_and_login(prod_stack, f"drilled-{uuid.uuid4().hex[:6]}@example.in")
    db(prod_stack, backup_dir, "backup")
    register_and_login(prod_stack, f"after-the-drill-{uuid.uuid4().hex[:6]}@example.in")
    before = database_fingerprint(prod_stack)

    result = db(prod_stack, backup_dir, "drill")

    assert "drill passed: recovery point " in result.stdout, result.stdout
    assert " UTC" in result.stdout.split("recovery point ")[1], "the recovery point is the dump's own time"
    counts = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if "_" in line.split()[0]}
    backup_users, live_users = map(int, counts["users_user"])
    assert live_users == backup_users + 1, "one account was made after the backup"
    assert "orders_order" in counts
    assert database_fingerprint(prod_stack) == before, "the live database is left alone"
    assert drill_databases(prod_stack) == [], "the scratch database is dropped"


@pytest.mark.parametrize("newest", ["removed", "truncated"])
def test_a_drill_without_a_good_backup_fails_loudly_and_leaves_nothing(prod_stack, backup_dir, newest):
    if newest == "truncated":
        good = REPO_DIR / db(prod_stack, backup_dir, "backup").stdout.split()[0]
        good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    before = database_fingerprint(prod_stack)
    result = db(prod_stack, backup_dir, "drill", check=False)
    assert result.returncode != 0
    assert result.stderr.startswith("error: "), result.stderr
    assert ("no backup in" if newest == "removed" else "truncated") in result.stderr, result.stderr
    assert database_fingerprint(prod_stack) == before
    assert drill_databases(prod_stack) == []


def test_media_files_are_backed_up_and_restored(prod_stack, backup_dir):
    prod_stack.exec(
        "backend", "sh", "-c", "mkdir -p /app/media/products && echo namaste > /app/media/products/probe.txt"
    )
    archive = db(prod_stack, backup_dir, "backup-media").stdout.split()[0]
    prod_stack.exec("backend", "rm", "/app/media/products/probe.txt")
    db(prod_stack, backup_dir, "restore-media", archive, "--yes")
    assert prod_stack.exec("backend", "cat", "/app/media/products/probe.txt").stdout.strip() == "namaste"
    broken = backup_dir / "broken.tar.gz"
    broken.write_bytes((REPO_DIR / archive).read_bytes()[:20])
    assert db(prod_stack, backup_dir, "restore-media", str(broken), "--yes", check=False).returncode != 0


def test_backup_and_restore_on_the_development_stack(dev_stack, backup_dir):
    env = {**dev_stack.env, "BACKUP_DIR": str(backup_dir)}
    script = str(REPO_DIR / "scripts" / "db")
    register_and_login(dev_stack, f"dev-kept-{uuid.uuid4().hex[:6]}@example.in")
    before = database_fingerprint(dev_stack)
    backup = run([script, "backup"], env=env).stdout.split()[0]
    assert "desideliver-dev-" in backup
    register_and_login(dev_stack, f"dev-later-{uuid.uuid4().hex[:6]}@example.in")
    run([script, "restore", backup, "--yes"], env=env)
    assert database_fingerprint(dev_stack) == before


def test_a_restore_is_served_at_once_not_the_cached_catalogue(prod_stack, backup_dir):
    def onion_price():
        return http("GET", prod_stack.url("/api/products/?search=Onion")).json()["results"][0]["price"]

    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    before = onion_price()
    backup = db(prod_stack, backup_dir, "backup").stdout.split()[0]
    prod_stack.psql("UPDATE products_product SET price = price + 11 WHERE name = 'Onion'")
    wait_for(lambda: onion_price() != before, timeout=10, what="the raw SQL price change to be served")
    db(prod_stack, backup_dir, "restore", backup, "--yes")
    assert onion_price() == before


def test_a_backup_with_the_database_stopped_says_so_and_leaves_no_partial_file(prod_stack, backup_dir):
    prod_stack.compose("stop", "db")
    try:
        result = db(prod_stack, backup_dir, "backup", check=False)
    finally:
        prod_stack.compose("start", "db")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the db service of the prod stack is not running; start it first "
        "(scripts/dev up, or docker compose -f docker-compose.prod.yml up -d)"
    ]
    assert not backup_dir.exists() or not list(backup_dir.iterdir())
    prod_stack.wait_ready()


def backup_runs(stack) -> list[str]:
    logs = stack.compose("--profile", "backup", "logs", "--no-log-prefix", "backup")
    return [line for line in (logs.stdout + logs.stderr).splitlines() if line.startswith("backup ")]


def test_the_scheduled_backup_service_keeps_the_newest_checked_dumps_and_they_restore(prod_stack, tmp_path):
    env = {**prod_stack.env, "BACKUP_INTERVAL": "2", "BACKUP_KEEP": "2"}
    photo = f"products/scheduled-{uuid.uuid4().hex[:8]}.txt"
    prod_stack.exec("backend", "sh", "-c", f"mkdir -p /app/media/products && echo namaste > /app/media/{photo}")
    prod_stack.compose("--profile", "backup", "up", "--detach", "backup", env=env)
    try:
        register_and_login(prod_stack, f"scheduled-{uuid.uuid4().hex[:6]}@example.in")
        before = database_fingerprint(prod_stack)
        # Two runs more: the second surely started after the fingerprint (and three prune).
        runs_before = len(backup_runs(prod_stack))
        wait_for(lambda: len(backup_runs(prod_stack)) >= max(3, runs_before + 2), timeout=90, what="backups")
        # Each good run is recorded, and the worker serves its time for the BackupStale alert.
        served = metrics(prod_stack, "worker")
        newest = sample(served, "desideliver_backup_last_success_timestamp_seconds", 'label="prod"')
        assert newest is not None and time.time() - 60 < newest <= time.time() + 1, served[-2000:]
        assert sample(served, "desideliver_backup_interval_seconds", 'label="prod"') == 2
    finally:
        prod_stack.compose("--profile", "backup", "stop", "backup")
    container = prod_stack.compose("--profile", "backup", "ps", "--all", "-q", "backup").stdout.strip()
    # Stopped between runs, it ends on the SIGTERM itself (143): not killed when the stop
    # timeout runs out (137), which made every stop and recreate wait that long.
    assert run(["docker", "inspect", "-f", "{{.State.ExitCode}}", container]).stdout.strip() == "143"
    runs = backup_runs(prod_stack)
    assert all(line.startswith("backup ok /backups/desideliver-prod-") for line in runs), runs
    assert all(", media /backups/desideliver-prod-media-" in line for line in runs), runs
    stored = backups_volume(prod_stack)
    dumps = sorted(name for name in stored if name.endswith(".dump"))
    assert len(dumps) == 2, dumps  # BACKUP_KEEP
    archives = sorted(name for name in stored if name.startswith("desideliver-prod-media-"))
    assert len(archives) == 2, archives  # the same BACKUP_KEEP
    run(["docker", "cp", f"{container}:/backups/{dumps[-1]}", str(tmp_path)])
    run(["docker", "cp", f"{container}:/backups/{archives[-1]}", str(tmp_path)])
    with tarfile.open(tmp_path / archives[-1]) as archive:
        assert archive.extractfile(f"./{photo}").read() == b"namaste\n"

    register_and_login(prod_stack, f"after-{uuid.uuid4().hex[:6]}@example.in")
    db(prod_stack, tmp_path, "restore", str(tmp_path / dumps[-1]), "--yes")
    assert database_fingerprint(prod_stack) == before
    prod_stack.compose("--profile", "backup", "rm", "--force", "backup")


def test_a_backup_run_drills_its_dump_when_due_and_a_failed_drill_is_loud(prod_stack):
    """The backup service's weekly restore drill (deploy/backup/pg-drill.sh), due here after
    a second, in single runs as a CronJob makes them. A dump that does not restore (every
    new database copies template1, which here already holds one of the dump's tables) fails
    the drill in one line, with a failure time the worker serves and no scratch database
    left; the backup itself stands. The next run's drill passes."""
    drill_due = ("-e", "BACKUP_INTERVAL=", "-e", "BACKUP_DRILL_INTERVAL=1")
    once = ("--profile", "backup", "run", "--rm", "--no-deps", *drill_due)
    template1 = 'psql -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d template1 -c "{}"'
    prod_stack.exec("db", "sh", "-c", template1.format("CREATE TABLE users_user (id integer)"))
    try:
        failing = prod_stack.compose(*once, "backup", check=False)
    finally:
        prod_stack.exec("db", "sh", "-c", template1.format("DROP TABLE users_user"))
    assert failing.returncode == 0, failing.stderr
    assert "backup ok /backups/desideliver-prod-" in failing.stdout, failing.stdout
    drills = [line for line in failing.stderr.splitlines() if line.startswith("drill ")]
    assert len(drills) == 1, failing.stderr
    assert drills[0].startswith("drill FAILED: /backups/desideliver-prod-"), drills
    assert "did not restore into a scratch database" in drills[0], drills
    assert drill_databases(prod_stack) == []
    served = metrics(prod_stack, "worker")
    failed_at = sample(served, "desideliver_restore_drill_last_failure_timestamp_seconds", 'label="prod"')
    assert failed_at is not None and time.time() - 120 < failed_at <= time.time() + 1, served[-2000:]
    passed_at = sample(served, "desideliver_restore_drill_last_success_timestamp_seconds", 'label="prod"')
    assert passed_at is None or passed_at < failed_at

    passing = prod_stack.compose(*once, "backup")
    assert "drill passed: recovery point " in passing.stdout, passing.stdout + passing.stderr
    served = metrics(prod_stack, "worker")
    assert sample(served, "desideliver_restore_drill_last_success_timestamp_seconds", 'label="prod"') > failed_at
    assert sample(served, "desideliver_restore_drill_restore_seconds", 'label="prod"') >= 0
    assert sample(served, "desideliver_restore_drill_interval_seconds", 'label="prod"') == 1
    assert drill_databases(prod_stack) == []


def test_a_failed_scheduled_run_is_tried_again_soon_not_an_interval_later(prod_stack):
    """A run that fails is tried again after BACKUP_RETRY_SECONDS (1 s here, 60 by
    default), not BACKUP_INTERVAL (an hour here) later: once the cause is gone, the next
    run is good, without a second base backup. The cause here: the service pointed at a
    database that is not yet the shop's (its dump lacks django_migrations), which then
    becomes one."""

    def in_postgres_database(sql: str) -> None:
        prod_stack.exec("db", "sh", "-c", f'psql -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "{sql}"')

    name = f"{prod_stack.project}-backup-retry"
    settings = ("PGDATABASE=postgres", "BACKUP_LABEL=retry", "BACKUP_INTERVAL=3600", "BACKUP_RETRY_SECONDS=1",
                "BACKUP_DRILL_INTERVAL=0")  # fmt: skip
    options = [option for setting in settings for option in ("-e", setting)]

    def runs() -> list[str]:  # stdout's lines ("backup ok"), then stderr's ("backup FAILED")
        logs = run(["docker", "logs", name])
        return [line for line in (logs.stdout + logs.stderr).splitlines() if line.startswith("backup ")]

    in_postgres_database("CREATE TABLE users_user (id integer)")  # what the schedule waits for
    try:
        prod_stack.compose("--profile", "backup", "run", "--detach", "--no-deps", "--name", name, *options, "backup")
        wait_for(lambda: len(runs()) >= 2, timeout=60, what="two runs")
        assert runs()[:2] == ["backup FAILED: the dump is not of a DesiDeliver database"] * 2, runs()
        in_postgres_database("CREATE TABLE django_migrations (id integer)")
        try:
            good = "backup ok /backups/desideliver-retry-"
            wait_for(lambda: any(line.startswith(good) for line in runs()), timeout=60, what="a good run")
        except AssertionError:
            raise AssertionError(f"no good run after the cause was gone: {runs()[-3:]}") from None
        # The first attempt took this interval's base backup; a retry takes no other (pgBackRest
        # expires the oldest full backups by count).
        assert ", base backup " not in next(line for line in runs() if line.startswith(good)), runs()
    finally:
        run(["docker", "rm", "--force", name], check=False)
        in_postgres_database("DROP TABLE IF EXISTS users_user, django_migrations, backup_status")


def backups_volume(stack) -> set[str]:
    listing = stack.compose(
        "--profile", "backup", "run", "--rm", "--no-deps", "--entrypoint", "ls", "backup", "-a", "/backups"
    )
    return set(listing.stdout.split()) - {".", ".."}


def test_a_scheduled_backup_that_is_not_a_shop_database_fails_and_keeps_nothing(prod_stack):
    before = backups_volume(prod_stack)
    once_elsewhere = ("-e", "BACKUP_INTERVAL=", "-e", "PGDATABASE=postgres", "backup")
    result = prod_stack.compose("--profile", "backup", "run", "--rm", "--no-deps", *once_elsewhere, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "backup FAILED: the dump is not of a DesiDeliver database"
    assert backups_volume(prod_stack) == before, "no dump, and no partial file, is left"


def test_a_pg_dump_older_than_the_server_fails_saying_which_image_to_run(prod_stack):
    """pg_dump refuses a newer server: after a managed upgrade to 18, a backup image of 17
    must say what to change rather than fail every night on "server version mismatch"."""
    before = backups_volume(prod_stack)
    server = int(prod_stack.psql("SHOW server_version_num").strip()) // 10000
    older = (
        f'pg_dump() {{ if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) {server - 1}.4"; '
        'else command pg_dump "$@"; fi; }; . /usr/local/bin/pg-backup.sh'
    )
    once = ("-e", "BACKUP_INTERVAL=", "--entrypoint", "sh", "backup", "-c", older)
    result = prod_stack.compose("--profile", "backup", "run", "--rm", "--no-deps", *once, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"backup FAILED: the server is PostgreSQL {server} and this image's pg_dump is {server - 1}: "
        f"run the backup on a PostgreSQL {server} image (compose: POSTGRES_IMAGE; Helm: backup.image)"
    )
    assert backups_volume(prod_stack) == before
