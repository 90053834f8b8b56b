"""Expand, then contract: a migration that drops or renames what the previous release
still reads fails `manage.py lint_migrations` (run here, so in every CI run), unless it
says it is the contract step and why that is safe."""

import sys
import types

import pytest
from django.core.management import CommandError, call_command
from django.db import migrations, models

from desideliver_backend.management.commands import lint_migrations


def test_the_projects_migrations_take_nothing_away_from_the_previous_release(capsys):
    checked = {f"{migration.app_label}/{migration.name}" for migration in lint_migrations.project_migrations()}
    # Every app's own, none of Django's; 0002 drops triggers, but only on the way back.
    assert {"users/0001_initial", "orders/0004_order_request_fingerprint", "products/0002_catalogue_version"} <= checked
    assert not any(name.startswith(("auth/", "admin/", "token_blacklist/")) for name in checked)
    call_command("lint_migrations")
    assert "no migration removes or renames" in capsys.readouterr().out


@pytest.fixture
def only_migration(monkeypatch):
    """Makes the command see one migration of ``orders`` with the given operations."""

    def make(*operations, contract_step: str | None = None):
        module = types.ModuleType("orders.migrations.0099_probe")
        if contract_step is not None:
            module.CONTRACT_STEP = contract_step
        monkeypatch.setitem(sys.modules, module.__name__, module)
        migration_class = type(
            "Migration", (migrations.Migration,), {"operations": list(operations), "__module__": module.__name__}
        )
        monkeypatch.setattr(lint_migrations, "project_migrations", lambda: [migration_class("0099_probe", "orders")])

    return make


@pytest.mark.parametrize(
    "operation",
    [
        migrations.RemoveField("order", "note"),
        migrations.RenameField("order", "note", "remark"),
        migrations.DeleteModel("Order"),
        migrations.RenameModel("Order", "Purchase"),
        migrations.AlterModelTable("order", "purchases"),
        migrations.RunSQL("ALTER TABLE orders_order DROP COLUMN note"),
        migrations.RunSQL(["SELECT 1", "ALTER TABLE orders_order RENAME COLUMN note TO remark"]),
    ],
    ids=lambda operation: operation.__class__.__name__,
)
def test_a_dropped_or_renamed_table_or_column_is_flagged(only_migration, operation):
    only_migration(operation)
    with pytest.raises(CommandError) as refused:
        call_command("lint_migrations")
    message = str(refused.value)
    assert message.startswith("orders/0099_probe: " + operation.__class__.__name__), message
    assert "CONTRACT_STEP" in message


def test_a_declared_contract_step_passes(only_migration):
    only_migration(migrations.RemoveField("order", "note"), contract_step="1.6 stopped reading Order.note")
    call_command("lint_migrations")


def test_an_empty_contract_step_is_no_excuse(only_migration):
    only_migration(migrations.RemoveField("order", "note"), contract_step="  ")
    with pytest.raises(CommandError):
        call_command("lint_migrations")


def test_adding_and_dropping_only_on_the_way_back_are_fine(only_migration):
    only_migration(
        migrations.AddField("order", "remark", models.TextField(blank=True, default="")),
        migrations.RunSQL("CREATE INDEX probe ON orders_order (id)", reverse_sql="DROP TABLE probe"),
    )
    call_command("lint_migrations")
