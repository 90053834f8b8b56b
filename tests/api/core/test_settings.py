"""Production settings refuse to start on missing or malformed configuration."""

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desideliver_backend.middleware import proxies

BACKEND_DIR = Path(__file__).resolve().parents[3] / "backend"

VALID_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.production",
    "SECRET_KEY": "p7#Jw0q!Zr3v$L9m@Xc2^Tb6&Nf1*Hd5(Ks8)Gy4-Ua0+Ei7=Oo3",
    "ALLOWED_HOSTS": "api.desideliver.in",
    "CSRF_TRUSTED_ORIGINS": "https://api.desideliver.in",
    "DB_NAME": "desideliver",
    "DB_USER": "desideliver",
    "DB_PASSWORD": "s3cure-database-password",
    "DB_HOST": "db.internal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "REDIS_PASSWORD": "a-real-redis-password-1234",
    "SENDGRID_API_KEY": "SG.realistic-looking-sendgrid-api-key",
    "CORS_ALLOWED_ORIGINS": "https://desideliver.in",
}


def settings_value(expression: str) -> tuple[str, ...]:
    """Arguments that make run_django print a settings expression."""
    return ("-c", f"import django; django.setup(); from django.conf import settings; print({expression})")


def run_django(env_overrides: dict, *args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(VALID_PRODUCTION_ENV)
    env.update(env_overrides)
    for name in drop:
        env.pop(name, None)
    command = args if args[:1] == ("-c",) else ("manage.py", *(args or ("check",)))
    return subprocess.run(
        [sys.executable, *command], cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_realistic_production_environment_passes_check_deploy():
    result = run_django({}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "ALLOWED_HOSTS", "DB_PASSWORD", "DB_HOST", "REDIS_URL", "REDIS_PASSWORD", "SENDGRID_API_KEY"]
)
def test_a_missing_required_variable_stops_startup_with_one_line(name):
    result = run_django({}, drop=(name,))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {name} ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SECRET_KEY", "django-insecure-local-development-key-not-for-production", "placeholder"),
        ("SECRET_KEY", "change-me-to-50-random-characters-change-me-to-50-random", "placeholder"),
        ("SECRET_KEY", "too-short", "too short"),
        ("DB_PASSWORD", "change-me", "placeholder"),
        ("DB_PASSWORD", "desideliver", "placeholder"),
        ("REDIS_PASSWORD", "change-me-16-characters-or-more", "placeholder"),
        ("REDIS_PASSWORD", "short", "too short"),
        ("DEBUG", "maybe", "true or false"),
        ("DB_PORT", "fivefourthreetwo", "whole number"),
        ("DB_ENGINE", "django.db.backends.sqlite3", "postgresql"),
        ("DATABASE_URL", "not a url", "postgres://"),
        ("REDIS_URL", "localhost:6379", "redis://"),
        ("CORS_ALLOWED_ORIGINS", "desideliver.in", "origins"),
        ("SECRET_KEY_FILE", "/nonexistent/secret", "unreadable file"),
        ("ALLOWED_HOSTS", "*", "any Host"),
        ("ALLOWED_HOSTS", "api.desideliver.in,*", "any Host"),
        ("TRUSTED_PROXIES", "the-proxy", "IP addresses or networks"),
    ],
)
def test_a_malformed_or_placeholder_value_is_refused_by_name(name, value, expected):
    result = run_django({name: value})
    assert result.returncode != 0
    line = result.stderr.strip()
    assert "\n" not in line, result.stderr
    assert name in line
    assert expected in line


def test_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(VALID_PRODUCTION_ENV["SECRET_KEY"] + "\n")
    result = run_django(
        {"SECRET_KEY_FILE": str(key_file)}, *settings_value("settings.SECRET_KEY"), drop=("SECRET_KEY",)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == VALID_PRODUCTION_ENV["SECRET_KEY"]


def test_a_redis_url_carrying_the_password_needs_no_redis_password():
    result = run_django(
        {"REDIS_URL": "redis://:a-real-redis-password-1234@redis.internal:6379/0"}, drop=("REDIS_PASSWORD",)
    )
    assert result.returncode == 0, result.stderr


def test_hsts_is_on_but_subdomains_and_preload_are_opt_in():
    expression = "settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD"
    assert run_django({}, *settings_value(expression)).stdout.strip() == "31536000 False False"
    opted_in = run_django(
        {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}, *settings_value(expression)
    )
    assert opted_in.stdout.strip() == "31536000 True True"


def test_production_trusts_forwarded_headers_only_from_its_own_docker_networks_by_default():
    """The edge proxy shares a compose network with the backend; nobody else is believed."""
    result = run_django({}, *settings_value("settings.TRUSTED_PROXIES"))
    assert result.returncode == 0, result.stderr
    networks = [ipaddress.ip_network(network) for network in eval(result.stdout)]  # noqa: S307 (our own repr)
    own_address = ipaddress.ip_address(socket.gethostbyname(socket.gethostname()))
    assert any(own_address in network for network in networks), (own_address, networks)
    assert all(network.prefixlen >= 8 for network in networks), "never the whole internet"
    gateway = ipaddress.ip_address(proxies._docker_gateway(proxies._routes()))
    assert not any(gateway in network for network in networks), "the host (published ports) is a client, not a proxy"
    assert run_django(
        {"TRUSTED_PROXIES": "10.0.0.0/8"}, *settings_value("settings.TRUSTED_PROXIES")
    ).stdout.strip() == ("['10.0.0.0/8']")


def test_production_never_runs_with_debug_on():
    result = run_django({"DEBUG": "true"}, *settings_value("settings.DEBUG"))
    assert result.stdout.strip() == "False"


def test_local_settings_run_with_no_environment_at_all():
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env["DJANGO_SETTINGS_MODULE"] = "desideliver_backend.settings.local"
    result = subprocess.run(
        [sys.executable, *settings_value("settings.DEBUG, settings.DATABASES['default']['HOST']")],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True db"


def test_production_does_not_serve_media_unless_asked():
    assert run_django({}, *settings_value("settings.SERVE_MEDIA")).stdout.strip() == "False"
    assert run_django({"SERVE_MEDIA": "true"}, *settings_value("settings.SERVE_MEDIA")).stdout.strip() == "True"


S3_MEDIA = {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "desideliver-media"}


def test_media_goes_to_the_volume_unless_s3_is_asked_for():
    storage = "settings.STORAGES['default']['BACKEND']"
    assert run_django({}, *settings_value(storage)).stdout.strip() == "django.core.files.storage.FileSystemStorage"
    s3 = run_django(
        {**S3_MEDIA, "MEDIA_S3_ENDPOINT_URL": "https://s3.example.net", "MEDIA_S3_ADDRESSING_STYLE": "PATH"},
        *settings_value(f"{storage}, sorted(settings.STORAGES['default']['OPTIONS'].items())"),
    )
    assert s3.returncode == 0, s3.stderr
    assert s3.stdout.startswith("storages.backends.s3.S3Storage")
    for option in (
        "('bucket_name', 'desideliver-media')",
        "('endpoint_url', 'https://s3.example.net')",
        "('addressing_style', 'path')",
        "('querystring_auth', True)",
        "('file_overwrite', False)",
    ):
        assert option in s3.stdout


def test_the_s3_secret_key_may_come_from_a_file(tmp_path):
    secret = tmp_path / "media_s3_secret_access_key"
    secret.write_text("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    result = run_django(
        {**S3_MEDIA, "MEDIA_S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "MEDIA_S3_SECRET_ACCESS_KEY_FILE": str(secret)},
        *settings_value("settings.STORAGES['default']['OPTIONS']['secret_key']"),
    )
    assert result.stdout.strip() == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"MEDIA_STORAGE": "minio"}, "MEDIA_STORAGE must be one of local, s3"),
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_S3_BUCKET is required"),
        ({**S3_MEDIA, "MEDIA_S3_ADDRESSING_STYLE": "dns"}, "MEDIA_S3_ADDRESSING_STYLE must be one of"),
        (
            {**S3_MEDIA, "MEDIA_S3_ACCESS_KEY_ID": "AKIAEXAMPLE"},
            "MEDIA_S3_SECRET_ACCESS_KEY and MEDIA_S3_ACCESS_KEY_ID",
        ),
        # Cached product lists (300 s) would hand out links that expired while cached.
        ({**S3_MEDIA, "MEDIA_S3_URL_SECONDS": "500"}, "MEDIA_S3_URL_SECONDS must be at least twice"),
    ],
)
def test_bad_media_storage_settings_stop_startup_naming_the_variable(overrides, named):
    result = run_django(overrides)
    assert result.returncode != 0
    assert named in result.stderr.strip().splitlines()[-1]


def test_plain_s3_urls_need_no_expiry_check():
    result = run_django(
        {**S3_MEDIA, "MEDIA_S3_PRESIGNED_URLS": "false", "MEDIA_S3_URL_SECONDS": "60"},
        *settings_value("settings.STORAGES['default']['OPTIONS']['querystring_auth']"),
    )
    assert result.stdout.strip() == "False", result.stderr


def test_tls_to_postgresql_takes_libpq_sslmode_and_a_ca_file(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    options = "sorted(settings.DATABASES['default']['OPTIONS'].items())"
    result = run_django({"DB_SSLMODE": "Verify-Full", "DB_SSLROOTCERT": str(ca)}, *settings_value(options))
    assert f"('sslmode', 'verify-full'), ('sslrootcert', '{ca}')" in result.stdout, result.stderr
    assert "sslmode" not in run_django({}, *settings_value(options)).stdout, "unset: libpq's own default"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DB_SSLMODE": "on"}, "DB_SSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ({"DB_SSLMODE": "verify-full"}, "DB_SSLROOTCERT is required with DB_SSLMODE=verify-full"),
        ({"DB_SSLMODE": "verify-ca", "DB_SSLROOTCERT": "/nonexistent/ca.crt"}, "DB_SSLROOTCERT names no readable file"),
    ],
)
def test_bad_database_tls_settings_stop_startup_naming_the_variable(overrides, named):
    result = run_django(overrides)
    assert result.returncode != 0
    assert named in result.stderr.strip().splitlines()[-1]


def test_behind_a_pooler_cursors_stay_client_side_and_migrations_go_straight_to_postgresql():
    pooled = {"DB_HOST": "pooler.internal", "DB_DIRECT_HOST": "db.direct.invalid", "DB_DIRECT_PORT": "6543"}
    cursors = "settings.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS')"
    assert run_django(pooled, *settings_value(cursors)).stdout.strip() == "True"
    assert run_django({}, *settings_value(cursors)).stdout.strip() == "None"
    # The start-up's migrations connect to DB_DIRECT_HOST, not to the pooler at DB_HOST.
    result = run_django(pooled, "prepare_database", "--wait", "1")
    assert result.returncode != 0
    assert "PostgreSQL at db.direct.invalid:6543 did not answer" in result.stderr, result.stderr
