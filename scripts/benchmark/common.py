"""What every section uses: the repository, the production settings, commands,
HTTP calls and the report rows."""

import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HTTPS = {"X-Forwarded-Proto": "https"}


PROD_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DB_PASSWORD": secrets.token_urlsafe(16),
    "REDIS_PASSWORD": secrets.token_urlsafe(24),
    "ALLOWED_HOSTS": "localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "BACKEND_IMAGE": "desideliver-backend:bench",
    "EDGE_BIND": "127.0.0.1",
    "EDGE_HTTPS_PORT": "19101",
    "EDGE_HTTP_PORT": "19102",
    # Requests straight to Gunicorn come from the host, through the network's gateway.
    "TRUSTED_PROXIES": "docker-networks,docker-gateway",
    # Every shopper of the load signs in from this one address and orders in a loop.
    "THROTTLE_RATES": "login=100000/minute,register=100000/hour,refresh=100000/minute,orders=100000/hour",
    "ORDER_MAX_PENDING": "100000",
    "OUTBOX_UNVERIFIED_PER_HOUR": "100000",
}


PEER = "peer: cookiecutter-django 2026.8, default options, measured 2026-11-26 on this kind of machine"


COLUMNS = ("measurement", "value", "baseline (same run)", "peer (2026-11-26)", "target", "met", "method")


rows: list[tuple[str, ...]] = []

COMPARISONS = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__, ">": float.__gt__}


def judge(measured: float, target: str) -> bool:
    """Whether ``measured`` meets a target written as "<= 3 s", "< 220 MiB" or ">= 0.5x"
    (the first comparison in the text; the unit is the value's own)."""
    match = re.search(r"(<=|>=|<|>)\s*([\d.]+)", target)
    if not match:
        raise ValueError(f"no comparison in target {target!r}")
    return COMPARISONS[match.group(1)](float(measured), float(match.group(2)))


def report(
    name: str,
    value: str,
    baseline: str = "",
    target: str = "",
    method: str = "",
    peer: str = "",
    *,
    measured: float | None = None,
    met: bool | None = None,
) -> None:
    """One row. A target is judged from ``measured`` (in the target's unit) or given as ``met``."""
    if met is None and measured is not None and target:
        met = judge(measured, target)
    verdict = "" if met is None else ("yes" if met else "**no**")
    rows.append((name, value, baseline, peer, target, verdict, method))
    print(
        f"  {name}: {value}  {('baseline ' + baseline) if baseline else ''}"
        f"  {('target ' + target) if target else ''}  {('met: ' + verdict) if verdict else ''}"
    )


def sh(*args: str, env: dict | None = None, check: bool = True, cwd: Path = REPO, timeout: int = 1800, **kw):
    result = subprocess.run(
        list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout, **kw
    )
    if check and result.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def compose(project: str, file: str, *args: str, env: dict | None = None, check: bool = True, cwd: Path = REPO):
    return sh("docker", "compose", "-p", project, "-f", str(cwd / file), *args, env=env, check=check, cwd=cwd)


def any_certificate() -> ssl.SSLContext:
    """TLS that accepts any certificate: the bench's edges serve their own local CA's."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def get(url: str, headers: dict | None = None, timeout: float = 5, insecure: bool = False) -> int:
    """The status of a GET; ``insecure`` accepts any certificate (any_certificate)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(
            request, timeout=timeout, context=any_certificate() if insecure else None
        ) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def content_encoding(url: str, headers: dict) -> str:
    """How an edge encoded its answer (over any certificate): "identity" if not at all."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10, context=any_certificate()) as response:
        return response.headers.get("Content-Encoding", "identity")


def post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **HTTPS}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:
        return 0, {}


def wait_until(predicate, timeout: float, interval: float = 0.05) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def engine_major() -> int:
    """The Docker Engine's major version (20 for 20.10.24)."""
    version = sh("docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
    return int(re.match(r"\d+", version).group())


def image_size_mb(image: str) -> float:
    return int(sh("docker", "image", "inspect", "-f", "{{.Size}}", image).stdout) / 1e6
