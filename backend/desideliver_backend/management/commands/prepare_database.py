"""Readies the database before a server starts (called by the container entrypoint).

1. Waits for PostgreSQL, up to --wait seconds, saying what it waits for.
2. Applies migrations while holding a PostgreSQL advisory lock, so several
   replicas starting at once migrate one after another, never concurrently; with
   a pooler (DB_DIRECT_HOST), over a direct connection, since the lock is a session's.
   Then sets the role's statement_timeout (DB_STATEMENT_TIMEOUT) for new sessions.
3. Creates the superuser named by DJANGO_SUPERUSER_EMAIL and
   DJANGO_SUPERUSER_PASSWORD (or its _FILE form) if no user has that email yet;
   the password must pass AUTH_PASSWORD_VALIDATORS.

With --wait-for-migrations (Celery's worker and beat) it migrates nothing: it
waits until someone else (the backend's start-up, a release job) has applied
every migration, so no task runs against an older schema.
"""

import os
import time
from contextlib import contextmanager, nullcontext

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from desideliver_backend import env
from users.models import canonical_email

# An arbitrary, fixed key: every DesiDeliver process migrating takes the same lock.
MIGRATION_LOCK_KEY = 7_330_001


@contextmanager
def direct_connection():
    """The default connection to PostgreSQL itself (DB_DIRECT_HOST) rather than the pooler,
    until the block ends. Its settings are DATABASES' own dict, read by every later
    connection of the process, and Gunicorn's workers fork from this one
    (desideliver_backend/runtime/gunicorn_start.py): the pooler's address is put back."""
    pooled = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(settings.DATABASE_DIRECT)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(pooled)


class Command(BaseCommand):
    help = "Wait for PostgreSQL, migrate under an advisory lock, create the configured superuser."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=int,
            default=int(os.environ.get("DB_WAIT_SECONDS", "60")),
            help="Seconds to wait for PostgreSQL (default: $DB_WAIT_SECONDS or 60).",
        )
        parser.add_argument("--wait-only", action="store_true", help="Only wait for PostgreSQL.")
        parser.add_argument(
            "--wait-for-migrations",
            action="store_true",
            help="Wait (up to --wait s) until all are applied; apply none.",
        )

    def handle(self, *args, **options):
        direct = settings.DATABASE_DIRECT and not options["wait_for_migrations"]
        with direct_connection() if direct else nullcontext():
            self._prepare(**options)

    def _prepare(self, *, wait, wait_only, wait_for_migrations, **options):
        self._wait_for_database(wait)
        if wait_for_migrations:
            self._wait_for_migrations(wait)
            return
        if wait_only:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
            try:
                cursor.execute("SET statement_timeout = 0")  # a migration may take as long as it takes
                call_command("migrate", interactive=False, verbosity=options["verbosity"])
                # Every later session of this role, the pooler's included (ALTER ROLE takes no bind parameters).
                timeout = int(settings.DB_STATEMENT_TIMEOUT)
                cursor.execute(f"ALTER ROLE CURRENT_USER SET statement_timeout = '{timeout}s'")
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
        self._ensure_superuser()

    def _wait_for_migrations(self, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while True:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"{len(pending)} migration(s) still unapplied after {timeout} s, e.g. {pending[0][0]} "
                    "(the backend applies them on start; or run manage.py migrate)"
                )
            self.stderr.write(f"waiting for {len(pending)} migration(s) to be applied, e.g. {pending[0][0]}")
            time.sleep(2)

    def _wait_for_database(self, timeout: int) -> None:
        settings = connection.settings_dict
        target = f"PostgreSQL at {settings['HOST']}:{settings['PORT'] or 5432}"
        deadline = time.monotonic() + timeout
        next_report = 0.0
        while True:
            try:
                connection.ensure_connection()
                return
            except OperationalError as exc:
                error = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                now = time.monotonic()
                if now >= deadline:
                    raise CommandError(
                        f"{target} did not answer within {timeout} s: {error} "
                        "(start it with `docker compose up`, or point DB_HOST or DATABASE_URL at a running PostgreSQL)"
                    ) from None
                if now >= next_report:
                    self.stderr.write(f"waiting for {target}: {error}")
                    next_report = now + 5
                connection.close()
                time.sleep(0.5)

    def _ensure_superuser(self) -> None:
        email = env.string("DJANGO_SUPERUSER_EMAIL", "")
        if not email:
            return
        password = env.string("DJANGO_SUPERUSER_PASSWORD", "")
        if not password:
            raise CommandError(
                "DJANGO_SUPERUSER_EMAIL is set but DJANGO_SUPERUSER_PASSWORD (or DJANGO_SUPERUSER_PASSWORD_FILE) is not"
            )
        users = get_user_model().objects
        if users.filter(email=canonical_email(email)).exists():
            return
        candidate = get_user_model()(email=canonical_email(email))
        try:
            password_validation.validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError(f"DJANGO_SUPERUSER_PASSWORD is refused: {' '.join(exc.messages)}") from None
        users.create_superuser(email=email, password=password)
        self.stdout.write(f"created superuser {email}")
