"""The production stack: Gunicorn, the edge and rolling deploys, email under a slow SMTP server."""

import json
import os
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.stack.slow_smtp import SlowSmtp
from tests.stack.stack import gateway_of

from .common import HTTPS, PROD_ENV, REPO, compose, content_encoding, get, post, report, sh, wait_until
from .haproxy import PORT as HAPROXY_PORT
from .haproxy import haproxy_edge
from .measure import cpu_per_request, fmt_wrk, wrk
from .openloop import constant_rate, fmt_open_loop

PROD_PROJECT, GUNICORN_PORT, EDGE_PORT = "desideliver-bench-prod", 19100, 19101
TRACE_SINK_PORT = 19190


def prod_compose(*args: str, env: dict | None = None, check: bool = True, direct: bool = False):
    """The bench's production stack; ``direct`` also publishes one backend's port (19100),
    so Gunicorn can be measured without the edge."""
    files = []
    if direct:
        override = Path(tempfile.mkdtemp()) / "direct.yml"
        override.write_text(f'services:\n  backend:\n    ports: ["127.0.0.1:{GUNICORN_PORT}:8000"]\n')
        files = ["-f", str(override)]
    return compose(PROD_PROJECT, "docker-compose.prod.yml", *files, *args, env={**PROD_ENV, **(env or {})}, check=check)


def prod_stack_up(direct: bool = True) -> None:
    prod_compose("down", "-v", check=False)
    prod_compose("up", "-d", "--build", "--wait", direct=direct)
    prod_compose("exec", "-T", "backend", "python", "manage.py", "seed_demo", "--allow-production")
    prod_compose(
        "exec",
        "-T",
        "db",
        "sh",
        "-c",
        'psql -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "UPDATE products_product SET stock = 10000000"',
    )


def order_flow(base: str, users: int, seconds: float) -> dict:
    accounts = []
    for i in range(users):
        email = f"bench-{uuid.uuid4().hex[:8]}-{i}@example.in"
        post(f"{base}/api/auth/register/", {"email": email, "password": "bench-password-42"})
        token = post(f"{base}/api/auth/login/", {"email": email, "password": "bench-password-42"})[1]["access"]
        address = post(
            f"{base}/api/auth/me/addresses/",
            {"line1": "1 Bench Rd", "city": "Pune", "state": "MH", "pin_code": "411001"},
            token,
        )[1]["id"]
        accounts.append((token, address))
    product = json.loads(urllib.request.urlopen(urllib.request.Request(f"{base}/api/products/", headers=HTTPS)).read())[
        "results"
    ][0]["id"]
    flows, errors, latencies = [0], [0], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def shopper(token: str, address: int) -> None:
        while time.monotonic() < deadline:
            start = time.monotonic()
            added = post(f"{base}/api/cart/add/", {"product": product, "quantity": 1}, token)[0]
            ordered = post(f"{base}/api/orders/create/", {"address": address}, token)[0]
            with lock:
                if (added, ordered) == (201, 201):
                    flows[0] += 1
                    latencies.append((time.monotonic() - start) * 1000)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=shopper, args=account) for account in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "flows": flows[0] / seconds,
        "errors": errors[0],
        "p50": latencies[len(latencies) // 2] if latencies else 0,
        "p99": latencies[int(len(latencies) * 0.99)] if latencies else 0,
    }


# The cache key holds only the parameters the view reads (an unknown one is a hit), so
# each request searches for its own random string of spaces and commas: another key,
# no search terms, the same full page to build. Each wrk thread seeds its own generator.
EVERY_REQUEST_A_MISS = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) math.randomseed(os.time() * 100 + id) end
function request()
  local separators = {}
  for i = 1, 24 do separators[i] = (math.random(2) == 1) and "%20" or "%2C" end
  return wrk.format(nil, "/api/products/?search=" .. table.concat(separators))
end
"""


def section_gunicorn(args) -> None:
    prod_stack_up(direct=True)
    base, seconds = f"http://127.0.0.1:{GUNICORN_PORT}", 5 if args.quick else 15
    live = wrk(f"{base}/health/live/", seconds)
    report(
        "Gunicorn /health/live/ (the ceiling)",
        fmt_wrk(live),
        "",
        ">= 1178 req/s",
        f"wrk -t2 -c100 -d{seconds}s, production config, 2 CPUs",
        peer="589 req/s",
        measured=live["rps"],
    )
    get(f"{base}/api/products/", HTTPS)
    cached = wrk(f"{base}/api/products/", seconds)
    report(
        "GET /api/products/ from Redis",
        fmt_wrk(cached),
        f"{cached['rps'] / live['rps']:.2f}x of /health/live/",
        ">= 0.5x, p99 < 100 ms, 0 errors",
        "same wrk run settings",
        met=cached["rps"] >= 0.5 * live["rps"] and cached["p99"] < 100 and cached["errors"] == 0,
    )
    miss = wrk(
        f"{base}/api/products/",
        seconds,
        script=EVERY_REQUEST_A_MISS,
    )
    report(
        "GET /api/products/, cache missed",
        fmt_wrk(miss),
        f"{miss['rps'] / cached['rps']:.2f}x of cached",
        "",
        "a search of 24 random separators: no search terms (the whole first page), another cache key each time",
    )
    flow = order_flow(base, users=20 if args.quick else 100, seconds=seconds)
    report(
        "add to cart + create order",
        f"{flow['flows']:.0f} flows/s, p50 {flow['p50']:.0f} ms, p99 {flow['p99']:.0f} ms, {flow['errors']} errors",
        "",
        "0 errors",
        f"{20 if args.quick else 100} users in parallel, {seconds} s",
        met=flow["errors"] == 0,
    )


# What a browser sends: the edge compresses for it, Gunicorn straight does not.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


class _OtlpSink(ThreadingHTTPServer):
    """An OTLP/HTTP endpoint that takes every export and answers 200, counting spans' bytes."""

    def __init__(self, port: int):
        sink = self
        self.exports, self.bytes = 0, 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.exports, sink.bytes = sink.exports + 1, sink.bytes + len(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("0.0.0.0", port), Handler)  # noqa: S104 (the stack's containers reach it)


def section_tracing(args) -> None:
    """What OpenTelemetry tracing costs: the cached product list and the list built from
    PostgreSQL, straight to Gunicorn, with OTEL_EXPORTER_OTLP_ENDPOINT set (every request
    traced, sent to a sink on this host) and unset, alternated."""
    prod_stack_up(direct=True)
    sink = _OtlpSink(TRACE_SINK_PORT)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    backend = json.loads(sh("docker", "inspect", prod_compose("ps", "-q", "backend").stdout.split()[0]).stdout)[0]
    endpoint = f"http://{gateway_of(backend)}:{TRACE_SINK_PORT}"
    base, seconds = f"http://127.0.0.1:{GUNICORN_PORT}", 5 if args.quick else 15
    paths = {"cached": "/api/products/", "built from PostgreSQL": None}
    runs: dict[tuple[str, str], list[float]] = {}
    try:
        for traced in (endpoint, "") * (1 if args.quick else 2):
            prod_compose("up", "-d", "--wait", "--no-deps", "backend", env={"OTEL_EXPORTER_OTLP_ENDPOINT": traced},
                         direct=True)  # fmt: skip
            get(f"{base}/api/products/", HTTPS)
            for name, path in paths.items():
                url = f"{base}{path or '/api/products/'}"
                result = wrk(url, seconds, script=None if path else EVERY_REQUEST_A_MISS)
                runs.setdefault((name, "on" if traced else "off"), []).append(result["rps"])
    finally:
        sink.shutdown()
        prod_compose("up", "-d", "--wait", "--no-deps", "backend", direct=True)
    for name in paths:
        on, off = (sum(runs[(name, state)]) / len(runs[(name, state)]) for state in ("on", "off"))
        report(
            f"GET /api/products/, {name}, every request traced",
            f"{on:.0f} req/s ({', '.join(f'{rps:.0f}' for rps in runs[(name, 'on')])})",
            f"{off:.0f} req/s untraced; {on / off:.3f}x",
            "",
            f"wrk -t2 -c100 -d{seconds}s straight to Gunicorn, tracing on and off alternated; "
            f"the sink took {sink.exports} exports, {sink.bytes / 1e6:.1f} MB, over both rows",
        )


def section_metrics(args) -> None:
    """What the Prometheus metrics cost on the hottest path: the cached product list
    straight to Gunicorn with METRICS_ENABLED on and off, alternated so that drift in the
    machine's speed falls on both alike."""
    prod_stack_up(direct=True)
    base, seconds = f"http://127.0.0.1:{GUNICORN_PORT}", 5 if args.quick else 15
    runs: dict[str, list[float]] = {"true": [], "false": []}
    for enabled in ("true", "false") * (1 if args.quick else 2):
        prod_compose("up", "-d", "--wait", "--no-deps", "backend", env={"METRICS_ENABLED": enabled}, direct=True)
        get(f"{base}/api/products/", HTTPS)  # cached before it is measured
        runs[enabled].append(wrk(f"{base}/api/products/", seconds)["rps"])
    on, off = sum(runs["true"]) / len(runs["true"]), sum(runs["false"]) / len(runs["false"])
    report(
        "GET /api/products/ from Redis, metrics on",
        f"{on:.0f} req/s ({', '.join(f'{rps:.0f}' for rps in runs['true'])})",
        f"{off:.0f} req/s with METRICS_ENABLED=false; {on / off:.3f}x",
        ">= 0.95x",
        f"wrk -t2 -c100 -d{seconds}s straight to Gunicorn, on and off alternated, mean of each",
        met=on >= 0.95 * off,
    )
    prod_compose("up", "-d", "--wait", "--no-deps", "backend", direct=True)


def section_edge(args) -> None:
    """What the edge costs, in terms that hold on any machine: CPU per request in the
    edge's cgroup against the backend's over the same run, and latency added at a rate
    below saturation (half the straight maximum); then a rolling deploy under load.
    Throughput through the edge against straight is printed too, but on CPUs the
    edge, the backend and the load generator share it is about app / (app + edge)."""
    prod_stack_up(direct=True)
    seconds = 5 if args.quick else 15
    get(f"http://127.0.0.1:{GUNICORN_PORT}/api/products/", HTTPS)
    caddy, backend = (prod_compose("ps", "-q", service).stdout.strip() for service in ("proxy", "backend"))
    caddy_version = sh("docker", "exec", caddy, "caddy", "version").stdout.split()[0]
    base_image = os.environ.get("PYTHON_IMAGE", "python:3.13-slim")
    with haproxy_edge(base_image, f"{PROD_PROJECT}_edge") as (haproxy, haproxy_version):
        edges = {f"Caddy {caddy_version}": (caddy, EDGE_PORT), f"HAProxy {haproxy_version}": (haproxy, HAPROXY_PORT)}
        for name, (_, port) in edges.items():
            url = f"https://localhost:{port}/api/products/"
            if wait_until(lambda url=url: get(url, insecure=True) == 200, 30, 0.2) is None:
                sys.exit(f"bench: {name} never answered 200 at {url} (an error page measures nothing)")
        for path in ("/api/products/", "/health/live/"):
            measure_edges(path, edges, backend, seconds)
    rolling_deploy_under_load(args)


def measure_edges(path: str, edges: dict[str, tuple[str, int]], backend: str, seconds: int) -> None:
    """For one path: straight to Gunicorn, then through each edge, each edge's CPU per
    request against the backend's over the same run; for the cached list, the latency
    each edge adds at a constant half of the straight maximum."""
    straight = wrk(f"http://127.0.0.1:{GUNICORN_PORT}{path}", seconds, headers=BROWSER)
    cached_list = path == "/api/products/"
    if cached_list:
        rate = straight["rps"] / 2
        direct = constant_rate(f"http://127.0.0.1:{GUNICORN_PORT}{path}", rate, seconds, headers=HTTPS | BROWSER)
    for name, (container, port) in edges.items():
        through, per_request = cpu_per_request(
            (container, backend), lambda port=port: wrk(f"https://localhost:{port}{path}", seconds, headers=BROWSER)
        )
        ratio = per_request[container] / per_request[backend]
        encoding = content_encoding(f"https://localhost:{port}{path}", BROWSER)
        report(
            f"edge CPU per request, {path}, {name}",
            f"{per_request[container]:.0f} us ({ratio:.2f}x the backend's), answers {encoding}",
            f"backend {per_request[backend]:.0f} us",
            "<= 0.25x" if cached_list else "",
            "cgroup CPU time of the edge's and the backend's containers over one wrk -c100 run through "
            "the edge (HTTPS, Accept-Encoding as a browser), divided by the requests served",
            measured=ratio if cached_list else None,
        )
        report(
            f"throughput through the edge, {path}, {name}",
            fmt_wrk(through),
            f"straight to Gunicorn {fmt_wrk(straight)} ({through['rps'] / straight['rps']:.2f}x)",
            "",
            f"wrk -t2 -c100 -d{seconds}s each; on shared CPUs this is about app / (app + edge)",
        )
        if cached_list:
            edged = constant_rate(f"https://localhost:{port}{path}", rate, seconds, headers=BROWSER)
            report(
                f"latency at half the straight maximum, {path}, {name}",
                f"{fmt_open_loop(edged)} ({edged['p99'] / direct['p99']:.2f}x straight's p99)",
                f"straight {fmt_open_loop(direct)}",
                "p99 <= 1.25x",
                "constant rate (scripts/benchmark/openloop.py: latency from each request's due time), "
                f"{seconds} s each, 64 keep-alive connections",
                met=edged["p99"] <= 1.25 * direct["p99"] and edged["errors"] == direct["errors"] == 0,
            )


SITE_ACCESS_LOG = """	log {
		output stdout
		format json
	}
"""

# Each variant of deploy/caddy/Caddyfile: a name and the edit that makes it.
CADDY_KNOBS = {
    "as shipped": lambda text: text,
    "no access log": lambda text: text.replace(SITE_ACCESS_LOG, "", 1),
    "gzip only (no zstd)": lambda text: text.replace("encode zstd gzip", "encode gzip", 1),
    "gzip level 1": lambda text: text.replace("encode zstd gzip", "encode {\n\t\tgzip 1\n\t}", 1),
    "no compression": lambda text: text.replace("\tencode zstd gzip\n", "", 1),
    "no body-limit expression": lambda text: re.sub(
        r"\t@body_too_large expression .*\n", "\t@body_too_large path /bench-never\n", text, count=1
    ),
    "64 idle upstream connections": lambda text: text.replace(
        "keepalive 60s", "keepalive 60s\n\t\t\tkeepalive_idle_conns_per_host 64", 1
    ),
}


def section_edge_knobs(args) -> None:
    """What each of Caddy's settings costs: the same stack, the Caddyfile edited one
    setting at a time and reloaded in place (caddy reload), CPU per request on the
    cached list measured for each, as shipped first and last (the run's drift)."""
    prod_stack_up(direct=True)
    seconds = 5 if args.quick else 10
    caddy, backend = (prod_compose("ps", "-q", service).stdout.strip() for service in ("proxy", "backend"))
    shipped = (REPO / "deploy" / "caddy" / "Caddyfile").read_text()
    url = f"https://localhost:{EDGE_PORT}/api/products/"
    get(url, BROWSER | HTTPS, insecure=True)
    measured: dict[str, float] = {}
    for name, edit in [*CADDY_KNOBS.items(), ("as shipped, again", CADDY_KNOBS["as shipped"])]:
        variant = edit(shipped)
        if name.startswith("as shipped") or variant != shipped:
            caddy_reload(caddy, variant)
        else:
            sys.exit(f"bench: the Caddyfile no longer has what the variant {name!r} edits")
        wrk(url, 2, headers=BROWSER)  # warm the new configuration's connections
        _, used = cpu_per_request((caddy, backend), lambda: wrk(url, seconds, headers=BROWSER))
        measured[name] = used[caddy]
        report(
            f"Caddy knob: {name}",
            f"{used[caddy]:.0f} us per request "
            f"({used[caddy] / used[backend]:.2f}x the backend's {used[backend]:.0f} us)",
            f"{used[caddy] / measured['as shipped']:.2f}x as shipped",
            "",
            f"cached list, wrk -c100 -d{seconds}s through the edge; one Caddyfile setting changed, caddy reload",
        )
    caddy_reload(caddy, shipped)


def caddy_reload(container: str, caddyfile: str) -> None:
    """Load a Caddyfile into the running edge through its admin API (no restart)."""
    sh("docker", "exec", "-i", container, "sh", "-c", "cat > /config/Caddyfile.bench", input=caddyfile)
    sh("docker", "exec", container, "caddy", "reload", "--config", "/config/Caddyfile.bench", "--adapter", "caddyfile")


def rolling_deploy_under_load(args) -> None:
    """scripts/deploy replacing three replicas while wrk loads the edge: nothing may fail."""
    prod_compose("up", "-d", "--wait", "--scale", "backend=3", "backend")
    sh(
        "docker",
        "build",
        "-q",
        "-t",
        "desideliver-backend:bench-next",
        "-",
        input=(f"FROM {PROD_ENV['BACKEND_IMAGE']}\nLABEL release=next\n"),
    )
    load_seconds = 40 if args.quick else 90
    load: dict = {}
    edge_list = f"https://localhost:{EDGE_PORT}/api/products/"
    # A request held up to 30 s (the edge retrying elsewhere) is slow, not failed: wrk's 2 s would count it.
    loader = threading.Thread(target=lambda: load.update(wrk(edge_list, load_seconds, connections=20, timeout=30)))
    loader.start()
    start = time.monotonic()
    sh(
        str(REPO / "scripts" / "deploy"),
        env={**PROD_ENV, "COMPOSE_PROJECT_NAME": PROD_PROJECT, "BACKEND_IMAGE": "desideliver-backend:bench-next"},
    )
    duration = time.monotonic() - start
    loader.join()
    report(
        "rolling deploy, 3 replicas",
        f"{duration:.1f} s, {load['errors']} failed of {load['requests']} requests {load['breakdown']}, "
        f"slowest {load['max'] / 1000:.1f} s",
        "",
        "0 failed",
        f"scripts/deploy during wrk -c20 -d{load_seconds}s through the edge",
        met=load["errors"] == 0,
    )


def section_email(args) -> None:
    """Order creation while the worker sends to a normal SMTP server, then to one that
    takes 5 s per message: the request must not wait on SMTP."""
    prod_stack_up(direct=True)
    seconds, users = (5, 5) if args.quick else (15, 10)
    worker = prod_compose("ps", "-q", "worker").stdout.strip()
    networks = json.loads(sh("docker", "inspect", worker).stdout)[0]["NetworkSettings"]["Networks"]
    gateway = next(network["Gateway"] for name, network in networks.items() if name.endswith("_edge"))
    with SlowSmtp() as smtp:
        smtp_env = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": gateway,
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "false",
            "SENDGRID_API_KEY": "SG.bench-key-not-a-real-one-0000",
        }
        prod_compose("up", "-d", "--no-deps", "--force-recreate", "--wait", "worker", env=smtp_env)
        base = f"http://127.0.0.1:{GUNICORN_PORT}"
        normal = order_flow(base, users=users, seconds=seconds)
        smtp.delay = 5
        slow = order_flow(base, users=users, seconds=seconds)
        sent = smtp.received
    report(
        "add to cart + create order, SMTP at 5 s a message",
        f"p50 {slow['p50']:.0f} ms, p99 {slow['p99']:.0f} ms, {slow['errors']} errors",
        f"{slow['p50'] / normal['p50']:.2f}x of a prompt SMTP server (p50 {normal['p50']:.0f} ms)",
        "<= 1.1x",
        f"{users} users, {seconds} s each; the worker sent {sent} emails meanwhile",
        measured=slow["p50"] / normal["p50"],
    )
