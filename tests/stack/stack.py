"""Helpers for driving real compose stacks from the host."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
# Where Caddy keeps the root of its own CA (DOMAIN=localhost), in its data volume.
EDGE_ROOT_CA = "/data/caddy/pki/authorities/local/root.crt"


def edge_env(https_port: int) -> dict[str, str]:
    """Where a production stack's edge listens in the suite: loopback, HTTPS on ``https_port``
    and plain HTTP (which redirects) on the port after it; the monitoring profile's
    Prometheus on the next, and the flower profile's Flower after it."""
    return {
        "EDGE_BIND": "127.0.0.1",
        "EDGE_HTTPS_PORT": str(https_port),
        "EDGE_HTTP_PORT": str(https_port + 1),
        "PROMETHEUS_PORT": str(https_port + 2),
        "FLOWER_WEB_PORT": str(https_port + 3),
    }


def dev_ports(first: int) -> dict[str, str]:
    """A development stack's published ports, five in a row from ``first``: the API,
    PostgreSQL, Redis, the mail catcher's web UI and Flower."""
    names = ("BACKEND_PORT", "DB_PORT_HOST", "REDIS_PORT_HOST", "MAIL_WEB_PORT", "FLOWER_WEB_PORT")
    return {name: str(first + offset) for offset, name in enumerate(names)}


def gateway_of(container: dict, network_suffix: str = "_edge") -> str:
    """The address at which ``container`` (docker inspect's JSON) reaches this host."""
    networks = container["NetworkSettings"]["Networks"]
    return next(network["Gateway"] for name, network in networks.items() if name.endswith(network_suffix))


def clean_env(**variables: str) -> dict:
    """Only what docker needs to run (PATH, HOME for its CLI plugins, DOCKER_*), plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME"} or k.startswith("DOCKER_")}
    return {**env, **variables}


class CommandFailed(AssertionError):
    pass


def run(
    args: list[str],
    *,
    env: dict | None = None,
    check: bool = True,
    timeout: int = 600,
    input: str | None = None,
    cwd: Path = REPO_DIR,
):
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, input=input, check=False
    )
    if check and result.returncode != 0:
        raise CommandFailed(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@dataclass
class Stack:
    """One compose project: a compose file, a project name and its environment."""

    project: str
    compose_file: str
    port: int
    extra_env: dict = field(default_factory=dict)
    scheme: str = "http"  # https: the production edge, verified against its own CA

    @property
    def env(self) -> dict:
        env = {**os.environ, **self.extra_env, "BACKEND_PORT": str(self.port), "COMPOSE_PROJECT_NAME": self.project}
        return env

    def compose(
        self, *args: str, check: bool = True, env: dict | None = None, timeout: int = 600, input: str | None = None
    ):
        command = ["docker", "compose", "-p", self.project, "-f", self.compose_file, *args]
        return run(command, env=env or self.env, check=check, timeout=timeout, input=input)

    def exec(self, service: str, *args: str, check: bool = True, user: str | None = None, env: dict | None = None):
        """What `compose exec -T SERVICE` runs, in the service's running container with the
        lowest number (after a scale down it need not be 1), through the docker CLI: compose
        loads the whole project on every call, about twice the CPU per exec, and the suite
        runs hundreds of them beside busy stacks."""
        options = ["--user", user] if user else []
        for name, value in (env or {}).items():
            options += ["-e", f"{name}={value}"]
        return run(["docker", "exec", *options, self.running_container(service), *args], check=check)

    def running_container(self, service: str) -> str:
        # Containers of the service's own: images compose built carry its project and service
        # labels too (the Swarm's tasks run one), and `compose run`'s are one-off.
        keys = (f"project={self.project}", f"service={service}", "oneoff=False", "container-number")
        filters = [option for key in keys for option in ("--filter", f"label=com.docker.compose.{key}")]
        listed = run(["docker", "ps", *filters, "--format", '{{.Label "com.docker.compose.container-number"}} {{.ID}}'])
        numbered = sorted((int(number), container) for number, container in map(str.split, listed.stdout.splitlines()))
        # None running: the first one's name, for docker's own "No such container" or "is not running".
        return numbered[0][1] if numbered else f"{self.project}-{service}-1"

    def psql(self, sql: str) -> str:
        """Runs SQL as the database's own user in the db container; returns psql's unaligned output."""
        script = f'psql -At -v ON_ERROR_STOP=1 -F"|" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "{sql}"'
        return self.exec("db", "sh", "-c", script).stdout

    def wait_ready(self, timeout: float = 90) -> None:
        wait_for(
            lambda: http("GET", self.url("/health/ready/"), timeout=3).status == 200, timeout=timeout, what="ready"
        )

    def django_shell(self, code: str) -> str:
        """Runs Python in the backend's Django shell; returns the last line it printed."""
        result = self.exec("backend", "python", "manage.py", "shell", "--no-imports", "-c", code)
        return result.stdout.strip().splitlines()[-1]

    def redis_cli(self, *args: str, check: bool = True, service: str = "redis"):
        """redis-cli in a Redis container (the data one, or ``cache``), with the stack's password if it has one."""
        return self.exec(
            service, "redis-cli", *args, env={"REDISCLI_AUTH": self.env.get("REDIS_PASSWORD", "")}, check=check
        )

    def gunicorn_workers(self) -> set[int]:
        """Host pids of the backend's Gunicorn workers, the children of its one master."""
        rows = [line.split() for line in self.compose("top", "backend").stdout.splitlines() if "gunicorn" in line]
        pids = {row[3] for row in rows}  # columns: SERVICE # UID PID PPID ...
        masters = [row[3] for row in rows if row[4] not in pids]
        assert len(masters) == 1, f"expected one Gunicorn master: {rows}"
        return {int(row[3]) for row in rows if row[4] == masters[0]}

    def container_id(self, service: str) -> str:
        return self.compose("ps", "--all", "-q", service).stdout.strip()

    def inspect(self, service: str) -> dict:
        return json.loads(run(["docker", "inspect", self.container_id(service)]).stdout)[0]

    def url(self, path: str) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"  # the name on the edge's certificate
        return f"{self.scheme}://{host}:{self.port}{path}"

    def edge_root_ca(self) -> str:
        """The PEM of the root certificate Caddy made for its own CA."""
        return self.exec("proxy", "cat", EDGE_ROOT_CA).stdout

    def trust_edge(self) -> None:
        """Verifies this stack's certificates from now on (never ``-k``), once they exist."""
        wait_for(lambda: "BEGIN CERTIFICATE" in self.edge_root_ca(), timeout=60, what="Caddy's root CA")
        trust_certificate(self.edge_root_ca())

    def up(self, *args: str) -> None:
        self.compose("up", "--detach", "--wait", *args, timeout=900)

    def down(self, *args: str) -> None:
        # Every profile's services too (the pooler, backups, monitoring): `down` alone keeps them.
        self.compose("--profile", "*", "down", "--remove-orphans", *args, check=False)


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is a response the tests look at, not follow


# TLS verified against the system's CAs plus the ones a test trusts.
_tls = ssl.create_default_context()


def trust_certificate(pem: str) -> None:
    _tls.load_verify_locations(cadata=pem)


def tls_context() -> ssl.SSLContext:
    return _tls


# Loopback only: no proxy from the environment, no redirects followed.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect, urllib.request.HTTPSHandler(context=_tls)
)


def http(
    method: str, url: str, *, body=None, token: str | None = None, headers: dict | None = None, timeout: float = 10
):
    """``body``: JSON to send, or bytes as they are (with their Content-Type in ``headers``)."""
    raw = isinstance(body, bytes)
    data = body if raw else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (to loopback)
    if data is not None and not raw:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


def container_healthy(container: str) -> bool:
    """The container's health check passes (by id or name, of any project or Swarm task)."""
    state = run(["docker", "inspect", "-f", "{{.State.Health.Status}}", container], check=False)
    return state.stdout.strip() == "healthy"


def wait_for(predicate, *, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Polls ``predicate`` until it is true. Half a second apart: most predicates run the
    docker CLI (tens of milliseconds of CPU for it and the engine), and the suite's
    stacks need the CPU more than a wait needs a tenth of a second."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


APP_TABLES = (
    "users_user",
    "users_address",
    "products_category",
    "products_product",
    "cart_cart",
    "cart_cartitem",
    "orders_order",
    "orders_orderitem",
    "tickets_ticket",
    "tickets_ticketmessage",
    "django_migrations",
)


def database_fingerprint(stack: Stack) -> dict[str, str]:
    """Row count and content hash of every application table, read with psql in the db container."""
    selects = " UNION ALL ".join(
        f"SELECT '{table}', count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
        f"FROM {table} t"
        for table in APP_TABLES
    )
    out = stack.psql(selects)
    return dict(line.split("|", 1) for line in out.strip().splitlines())


def register_and_login(stack: Stack, email: str, password: str = "stack-test-password-42", headers=None) -> str:
    http("POST", stack.url("/api/auth/register/"), body={"email": email, "password": password}, headers=headers)
    response = http("POST", stack.url("/api/auth/login/"), body={"email": email, "password": password}, headers=headers)
    assert response.status == 200, response.body
    return response.json()["access"]


def place_order(stack, shopper) -> tuple[int, dict | None]:
    token, address, product = shopper
    added = http("POST", stack.url("/api/cart/add/"), token=token, body={"product": product, "quantity": 1})
    if added.status != 201:
        return added.status, None
    order = http("POST", stack.url("/api/orders/create/"), token=token, body={"address": address})
    return order.status, (order.json() if order.status == 201 else None)


def demo_staff_login(stack: Stack) -> str:
    """An access token of seed_demo's staff user (the catalogue's seeded before)."""
    response = http(
        "POST", stack.url("/api/auth/login/"), body={"email": "staff@desideliver.in", "password": "desideliver-demo"}
    )
    assert response.status == 200, response.body
    return response.json()["access"]


def metrics(stack: Stack, service: str = "backend") -> str:
    """What the service serves Prometheus on its internal port 9100 (desideliver_backend/metrics.py)."""
    url = "http://127.0.0.1:9100/metrics"
    code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=5).read().decode())"
    return stack.exec(service, "python", "-c", code).stdout


def sample(text: str, name: str, labels: str = "") -> float | None:
    """One sample's value; ``labels`` as Prometheus writes them, sorted (``a="1",b="2"``)."""
    series = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None
