"""Reading configuration from the environment, strictly.

Every reader either returns a well-formed value or stops start-up with one line
that names the variable and says what is expected: ``ConfigurationError`` is a
``SystemExit``, so Python prints that line and exits 1 instead of a traceback.
Secrets may also come from a file named by ``<NAME>_FILE`` (Docker secrets).
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse

import environ

# Values copied from .env.example that must never reach production: anything
# containing a marker, and the development defaults themselves.
PLACEHOLDER_MARKERS = ("change-me", "django-insecure")
DEVELOPMENT_VALUES = {"desideliver", "desideliver-demo"}

LIBPQ_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MISSING = object()


class ConfigurationError(SystemExit):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"configuration error: {name} {problem} (see .env.example)")


# django-environ's file-aware view of os.environ: NAME_FILE, when set, wins over NAME.
# Not cached, so a rotated secret file is read again by the next process that starts.
_environ = environ.FileAwareMapping(cache=False)


# What a settings module states for its environment (local.py's development defaults),
# used for a variable that is neither set nor given by a file. os.environ is never written.
_environment_defaults: dict[str, str] = {}


def use_defaults(defaults: dict[str, str]) -> None:
    _environment_defaults.update(defaults)


def _raw(name: str) -> str | None:
    """The variable's value, read from ``<NAME>_FILE`` when that is set (stripped of the
    newline an editor or ``echo`` leaves at the end of a file), else the environment's
    default if one was stated."""
    try:
        value = _environ.get(name)
    except OSError as exc:
        raise ConfigurationError(
            f"{name}_FILE", f"points at an unreadable file: {exc.strerror}: {os.environ[f'{name}_FILE']}"
        ) from None
    if value is None:
        return _environment_defaults.get(name)
    return value.strip() if os.environ.get(f"{name}_FILE") else value


def string(name: str, default: str | object = _MISSING) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ConfigurationError(name, "is required but not set")
        return default  # type: ignore[return-value]
    return value


def secret(name: str, *, min_length: int = 1, default: str | object = _MISSING) -> str:
    """A required secret: set, not a placeholder, and at least ``min_length`` long."""
    value = string(name, default)
    lowered = value.lower()
    if lowered in DEVELOPMENT_VALUES or any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        raise ConfigurationError(name, "still holds the example placeholder; set a real secret")
    if len(value) < min_length:
        raise ConfigurationError(name, f"is too short: expected at least {min_length} characters, got {len(value)}")
    return value


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ConfigurationError(name, f"must be true or false, got {value!r}")


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(name, f"must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigurationError(name, f"must be at least {minimum}, got {number}")
    return number


def choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = string(name, default).strip().lower()
    if value not in choices:
        raise ConfigurationError(name, f"must be one of {', '.join(c for c in choices if c)}, got {value!r}")
    return value


def string_list(name: str, default: list[str] | object = _MISSING) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    value = _raw(name)
    if value is None or value.strip() == "":
        if default is _MISSING:
            raise ConfigurationError(name, "is required: a comma-separated list")
        return list(default)  # type: ignore[call-overload]
    return [item.strip() for item in value.split(",") if item.strip()]


def origin_list(name: str, default: list[str]) -> list[str]:
    origins = string_list(name, default)
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin:
            raise ConfigurationError(name, f"must list origins like https://app.example.com, got {origin!r}")
    return origins


def database(*, conn_max_age: int) -> dict:
    """DATABASE_URL if set, otherwise DB_ENGINE/DB_NAME/DB_USER/DB_PASSWORD/DB_HOST/DB_PORT."""
    url = _raw("DATABASE_URL")
    if url:
        config = environ.Env.db_url_config(url) if url.startswith(("postgres://", "postgresql://")) else {}
        if not config.get("NAME") or not config.get("HOST"):
            raise ConfigurationError("DATABASE_URL", "must look like postgres://user:password@host:5432/name")
    else:
        config = {
            "ENGINE": string("DB_ENGINE", "django.db.backends.postgresql"),
            "NAME": string("DB_NAME"),
            "USER": string("DB_USER"),
            "PASSWORD": string("DB_PASSWORD"),
            "HOST": string("DB_HOST"),
            "PORT": integer("DB_PORT", 5432, minimum=1),
        }
    if config.get("ENGINE") not in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
        raise ConfigurationError("DB_ENGINE", f"must be django.db.backends.postgresql, got {config.get('ENGINE')!r}")
    config["ENGINE"] = "django.db.backends.postgresql"
    # Parallel or nested test runs each need their own throwaway database.
    config["TEST"] = {"NAME": string("DB_TEST_NAME", "") or None}
    config["CONN_MAX_AGE"] = conn_max_age
    # A reused connection is checked before each request, so a restarted PostgreSQL
    # costs one reconnect instead of an error.
    config["CONN_HEALTH_CHECKS"] = True
    options = config.setdefault("OPTIONS", {})
    options["connect_timeout"] = integer("DB_CONNECT_TIMEOUT", 5, minimum=1)
    # TLS to the server (a managed PostgreSQL): libpq's sslmode, and the CA to verify it by.
    sslmode = choice("DB_SSLMODE", ("", *LIBPQ_SSLMODES), "")
    if sslmode:
        options["sslmode"] = sslmode
    sslrootcert = string("DB_SSLROOTCERT", "")
    if sslrootcert:
        if not os.path.isfile(sslrootcert):
            raise ConfigurationError("DB_SSLROOTCERT", f"names no readable file: {sslrootcert}")
        options["sslrootcert"] = sslrootcert
    if sslmode in {"verify-ca", "verify-full"} and not sslrootcert:
        raise ConfigurationError(
            "DB_SSLROOTCERT", f"is required with DB_SSLMODE={sslmode}: the CA that signed the server's certificate"
        )
    return config


def redis_url(name: str = "REDIS_URL", default: str | object = _MISSING) -> str:
    url = string(name, default)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(name, f"must look like redis://host:6379/0, got {url!r}")
    return url


def networks(name: str, default: str = "") -> list[str]:
    """A comma-separated list of addresses or networks (10.0.0.5, 172.16.0.0/12, ::1);
    the word ``docker-gateway`` stands for this container's default gateway, and
    ``docker-networks`` for the other addresses of the networks it is attached to
    (where a proxy container on the same compose network connects from)."""
    found = []
    items = string_list(name, [item for item in default.split(",") if item])
    if {"docker-gateway", "docker-networks"} & set(items):
        from desideliver_backend.middleware.proxies import docker_peers  # reads /proc/net/route; only when asked

        docker = docker_peers()
    for item in items:
        if item in {"docker-gateway", "docker-networks"}:
            found.extend(docker[item])
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigurationError(
                name, f"must list IP addresses or networks like 10.0.0.0/8, got {item!r}"
            ) from None
    return found


def rates(name: str, defaults: dict[str, str]) -> dict[str, str]:
    """``scope=N/period`` pairs, comma-separated, overriding ``defaults`` scope by scope."""
    chosen = dict(defaults)
    for item in string_list(name, []):
        scope, _, rate = item.partition("=")
        scope, rate = scope.strip(), rate.strip()
        if scope not in defaults:
            raise ConfigurationError(name, f"names an unknown scope {scope!r}; known: {', '.join(defaults)}")
        count, _, period = rate.partition("/")
        if not count.isdecimal() or not count.isascii() or period not in {"second", "minute", "hour", "day"}:
            raise ConfigurationError(name, f"must give rates like {scope}=10/minute, got {item!r}")
        chosen[scope] = rate
    return chosen


def redis_url_for_database(url: str, database: int, password: str | None) -> str:
    """The same Redis server as ``url``, another database number, with the password in it."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if password and "@" not in netloc:
        netloc = f":{urllib.parse.quote(password, safe='')}@{netloc}"
    path = parts.path if parts.scheme == "unix" else f"/{database}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))
