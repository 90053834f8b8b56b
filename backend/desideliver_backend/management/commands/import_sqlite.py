"""Imports the database of the old SQLite set-up into PostgreSQL.

The file is checked first (a SQLite database holding this project's tables), a
copy of it is migrated to the current schema, every DesiDeliver model is dumped
from the copy with natural keys and loaded into PostgreSQL in one transaction.
Row counts per model are reported before and after. On any problem, nothing in
PostgreSQL changes.
"""

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend

LEGACY_ALIAS = "legacy_sqlite"
SQLITE_HEADER = b"SQLite format 3\x00"
# What is moved: the project's apps, plus the auth groups users may belong to.
APP_LABELS = ["auth.group", "users", "products", "cart", "orders", "tickets"]
REQUIRED_TABLES = {"django_migrations", "users_user", "products_product"}


@contextlib.contextmanager
def legacy_database(path: Path) -> Iterator[str]:
    """A connection to a SQLite file under a temporary alias, for this thread only.

    It is not added to settings.DATABASES: nothing else (health checks, request
    handling, test isolation) ever sees it.
    """
    settings_dict = {
        **{key: "" for key in ("USER", "PASSWORD", "HOST", "PORT")},
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": {},
        "TIME_ZONE": None,
        "TEST": {"NAME": None, "MIRROR": None, "CHARSET": None, "COLLATION": None, "MIGRATE": True},
    }
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, LEGACY_ALIAS)
    connections[LEGACY_ALIAS] = connection
    try:
        yield LEGACY_ALIAS
    finally:
        connection.close()
        del connections[LEGACY_ALIAS]


# Bookkeeping rows every migrated database has, not data to move.
NOT_DATA = {"products.CatalogueVersion"}


def project_models():
    return [model for label in APP_LABELS for model in _models(label) if model._meta.label not in NOT_DATA]


def _models(label: str):
    if "." in label:
        return [apps.get_model(label)]
    return list(apps.get_app_config(label).get_models())


def row_counts(alias: str) -> dict[str, int]:
    return {model._meta.label: model._default_manager.using(alias).count() for model in project_models()}


def check_sqlite_file(path: Path, name: str) -> None:
    if not path.is_file():
        raise CommandError(f"{name} does not exist")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CommandError(f"{name} is not a SQLite database")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise CommandError(f"{name} is not a readable SQLite database: {exc}") from None
    missing = REQUIRED_TABLES - tables
    if missing:
        raise CommandError(f"{name} is a SQLite database, but not DesiDeliver's (no {', '.join(sorted(missing))})")


class Command(BaseCommand):
    help = "Import the old SQLite database into PostgreSQL (into an empty database, in one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("sqlite_file", type=Path)
        parser.add_argument("--source-name", help="How to name the file in messages (default: its path).")

    def handle(self, *args, sqlite_file: Path, source_name: str | None, **options):
        name = source_name or str(sqlite_file)
        check_sqlite_file(sqlite_file, name)
        existing = {label: count for label, count in row_counts(DEFAULT_DB_ALIAS).items() if count}
        if existing:
            summary = ", ".join(f"{count} {label}" for label, count in existing.items())
            raise CommandError(f"PostgreSQL already holds data ({summary}); import into an empty database")

        with tempfile.TemporaryDirectory() as workdir:
            # Migrate a copy, so the file is read as the current models expect and left as it was.
            copy = Path(workdir) / "legacy.sqlite3"
            shutil.copyfile(sqlite_file, copy)
            dump = Path(workdir) / "legacy.json"
            with legacy_database(copy) as alias:
                call_command("migrate", database=alias, verbosity=0, interactive=False)
                before = row_counts(alias)
                call_command(
                    "dumpdata",
                    *APP_LABELS,
                    database=alias,
                    natural_foreign=True,
                    natural_primary=True,
                    output=str(dump),
                    verbosity=0,
                )
            with transaction.atomic(using=DEFAULT_DB_ALIAS):
                call_command("loaddata", str(dump), database=DEFAULT_DB_ALIAS, verbosity=0)
                after = row_counts(DEFAULT_DB_ALIAS)
                if after != before:
                    raise CommandError(f"row counts differ after loading, nothing imported: {before} != {after}")

        width = max(len(label) for label in before)
        self.stdout.write(f"{'model':<{width}}  {'sqlite':>8}  {'postgresql':>10}")
        for label, count in before.items():
            self.stdout.write(f"{label:<{width}}  {count:>8}  {after[label]:>10}")
        self.stdout.write(self.style.SUCCESS(f"imported {sum(after.values())} rows from {name}"))
