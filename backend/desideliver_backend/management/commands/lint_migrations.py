"""Flags migrations that would break the release before them: expand, then contract.

During a rolling deploy, and after a rollback to the previous image, the previous
release runs on the database these migrations leave. A migration that drops or
renames a table or a column it still reads makes every such query fail; a restore
to go back would lose every order since the dump. So a removal comes last, in a
release of its own once no running code reads it (docs/DEPLOY.md, "Migrations
across releases"): add and backfill; switch the code; remove.

A migration that is such a contract step says so, and why it is safe, at module level:

    CONTRACT_STEP = "1.6 stopped reading Order.note (moved to OrderNote)"

usage: python manage.py lint_migrations   (exit 1 naming each unsafe operation)
"""

import re
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

# Operations whose forward step takes away a name the previous release may still use.
REMOVING = (
    migrations.RemoveField,
    migrations.DeleteModel,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.AlterModelTable,
)
# The same, written as SQL.
REMOVING_SQL = re.compile(r"\b(DROP\s+(TABLE|COLUMN)|RENAME\s+(TO|COLUMN))\b", re.IGNORECASE)


def _describe(operation) -> str:
    return f"{operation.__class__.__name__} ({operation.describe()})"


def unsafe_operations(migration) -> list[str]:
    """What in this migration's forward step removes or renames a table or a column."""
    found = []
    for operation in migration.operations:
        if isinstance(operation, REMOVING):
            found.append(_describe(operation))
        elif isinstance(operation, migrations.RunSQL):
            statements = operation.sql if isinstance(operation.sql, (list, tuple)) else [operation.sql]
            if any(REMOVING_SQL.search(str(statement)) for statement in statements):
                found.append(_describe(operation))
    return found


def project_migrations():
    """Every migration of the project's own apps (not Django's or third parties')."""
    own = {config.label for config in apps.get_app_configs() if Path(config.path).is_relative_to(settings.BASE_DIR)}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [migration for (label, _), migration in sorted(loader.disk_migrations.items()) if label in own]


class Command(BaseCommand):
    help = "Flags migrations that drop or rename a table or column without saying it is a contract step."

    def handle(self, *args, **options):
        problems = []
        for migration in project_migrations():
            if getattr(sys.modules[type(migration).__module__], "CONTRACT_STEP", "").strip():
                continue
            problems += [
                f"{migration.app_label}/{migration.name}: {found} takes away what the previous release may "
                "still read; move it to a later release, or say why it is safe with CONTRACT_STEP"
                for found in unsafe_operations(migration)
            ]
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write("no migration removes or renames what the previous release reads")
