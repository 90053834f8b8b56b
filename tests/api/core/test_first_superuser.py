"""What the start-up (prepare_database) does beyond migrating: the first superuser,
created from DJANGO_SUPERUSER_* (its password may come from a file, must pass the
password validators, and reaches only the service that creates it), the role's statement timeout, and the
database address it leaves the process with."""

import socket
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from users.models import User

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def prepare(monkeypatch, **variables):
    for name in ("DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD", "DJANGO_SUPERUSER_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    call_command("prepare_database", "--wait", "5")


def test_the_password_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "django_superuser_password"
    secret.write_text("a-long-admin-password-91\n")
    prepare(monkeypatch, DJANGO_SUPERUSER_EMAIL="Admin@DesiDeliver.in", DJANGO_SUPERUSER_PASSWORD_FILE=str(secret))
    admin = User.objects.get(email="admin@desideliver.in")
    assert admin.is_superuser and admin.check_password("a-long-admin-password-91")


@pytest.mark.parametrize("password", ["admin", "12345678901", "password123"])
def test_a_weak_password_is_refused_with_the_validators_reasons(monkeypatch, password):
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD is refused"):
        prepare(monkeypatch, DJANGO_SUPERUSER_EMAIL="admin@desideliver.in", DJANGO_SUPERUSER_PASSWORD=password)
    assert not User.objects.filter(email="admin@desideliver.in").exists()


def test_only_the_backend_gets_the_superuser_password_in_production():
    services = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())["services"]
    given = {
        name for name, service in services.items() if "DJANGO_SUPERUSER_PASSWORD" in service.get("environment", {})
    }
    assert given == {"backend"}
    assert "django_superuser_password" in services["backend"]["secrets"]


def test_start_up_gives_the_role_its_statement_timeout(monkeypatch, settings):
    settings.DB_STATEMENT_TIMEOUT = 7
    prepare(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolconfig FROM pg_roles WHERE rolname = current_user")
        assert "statement_timeout=7s" in cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_behind_a_pooler_the_process_goes_back_to_the_pooler_after_migrating(monkeypatch, settings):
    # Gunicorn's workers fork from the process that ran prepare_database
    # (gunicorn_start.py): its migrations go to PostgreSQL itself, its requests must not.
    pooled_host = connection.settings_dict["HOST"]
    settings.DATABASE_DIRECT = {"HOST": socket.gethostbyname(pooled_host), "PORT": connection.settings_dict["PORT"]}
    assert settings.DATABASE_DIRECT["HOST"] != pooled_host
    prepare(monkeypatch)
    assert connection.settings_dict["HOST"] == pooled_host
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
