"""Every setting the production settings read reaches the app containers of
docker-compose.prod.yml: compose passes a container only the variables it names, so a
setting an operator puts in .env that the file does not name would be silently ignored."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
APP_SERVICES = ("backend", "worker", "beat")

# Read by the settings, deliberately not passed by the production compose file.
NOT_PASSED = {
    "DEBUG": "production.py sets it off",
    "MEDIA_ROOT": "the media volume's mount point in the image",
    "SERVE_MEDIA": "the edge serves the media volume (deploy/caddy/Caddyfile)",
    "DB_TEST_NAME": "the test database's name, for the test runner only",
    "DB_ENGINE": "production runs on PostgreSQL",
    "PORT": "the edge reaches Gunicorn on port 8000",
}
# The integrations that are off by default read their settings only when on.
INTEGRATIONS_ON = {
    "MEDIA_STORAGE": "s3",
    "MEDIA_S3_BUCKET": "media",
    "MEDIA_S3_ACCESS_KEY_ID": "a" * 20,
    "MEDIA_S3_SECRET_ACCESS_KEY": "s" * 40,
    "SENTRY_DSN": "https://key@errors.example.test/1",
}

READ_BY_PRODUCTION = """
import json, sys
from desideliver_backend import env
names = set()
raw = env._raw
def recording(name):
    names.add(name)
    return raw(name)
env._raw = recording
import desideliver_backend.settings.production
import desideliver_backend.runtime.gunicorn_conf
print(json.dumps(sorted(names)))
"""


@functools.cache
def variables_production_reads() -> set[str]:
    """The names the strict environment reader is asked for while the production settings
    and the Gunicorn config load (every reader goes through ``env._raw``), with the optional
    integrations off and on."""
    return read_by_production({}) | read_by_production(INTEGRATIONS_ON)


def read_by_production(extra: dict[str, str]) -> set[str]:
    required = {
        "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "api.example.test",
        "DB_NAME": "shop",
        "DB_USER": "shop",
        "DB_HOST": "db",
        "DB_PASSWORD": "p" * 20,
        "REDIS_PASSWORD": "r" * 20,
        "REDIS_URL": "redis://redis:6379/0",
        "SENDGRID_API_KEY": "s" * 30,
    }
    env = {name: value for name, value in os.environ.items() if name in {"PATH", "HOME", "LANG"}} | required | extra
    result = subprocess.run(
        [sys.executable, "-c", READ_BY_PRODUCTION],
        cwd=ROOT / "backend",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def compose_file() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_production_setting_reaches_the_app_containers(compose_file, service):
    passed = set(compose_file["services"][service]["environment"])
    missing = sorted(variables_production_reads() - passed - set(NOT_PASSED))
    assert missing == [], f"docker-compose.prod.yml does not pass {', '.join(missing)} to {service}"


def test_what_is_not_passed_is_still_read():
    """A setting removed from the settings leaves this list too."""
    assert set(NOT_PASSED) - variables_production_reads() == set()
