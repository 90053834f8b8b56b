"""The production stack: Gunicorn, hardening, static files, secrets, isolation."""

import json
import math
import re
import secrets
import signal
import time
import uuid
from functools import partial
from pathlib import Path

import pytest

from tests.stack.rotation import assert_passwords, rotate_database_password
from tests.stack.stack import http, run, wait_for


def test_it_serves_with_debug_off(prod_stack):
    response = http("GET", prod_stack.url("/api/products/"))
    assert response.status == 200
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    missing = http("GET", prod_stack.url("/no-such-page/"))
    assert missing.status == 404
    assert b"Traceback" not in missing.body and b"DEBUG = True" not in missing.body
    assert len(missing.body) < 2000, "a 404 in production must not be Django's debug page"


def test_health_probes_need_no_https_and_no_allowed_host(prod_stack):
    """What an orchestrator's probe sends straight to a replica: plain HTTP, any Host."""
    probe = (
        "import urllib.request as u; r = u.Request('http://127.0.0.1:8000/health/live/', "
        "headers={'Host': 'internal-probe'}); print(u.urlopen(r, timeout=5).status)"
    )
    assert prod_stack.exec("backend", "python", "-c", probe).stdout.strip() == "200"
    ready = http("GET", prod_stack.url("/health/ready/"))
    assert ready.status == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "cache": "ok"}
    assert prod_stack.inspect("backend")["State"]["Health"]["Status"] == "healthy"


def test_static_files_are_hashed_and_cached_for_long(prod_stack):
    manifest = json.loads(prod_stack.exec("backend", "cat", "/app/staticfiles/staticfiles.json").stdout)
    hashed = manifest["paths"]["admin/css/base.css"]
    assert re.search(r"\.[0-9a-f]{12}\.css$", hashed)
    response = http("GET", prod_stack.url(f"/static/{hashed}"), headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert "max-age=315360000" in response.headers["Cache-Control"]
    assert response.headers.get("Content-Encoding") == "gzip"


def gunicorn_sockets(stack, state: str) -> int:
    """The backend's TCP sockets on Gunicorn's port 8000 (0x1F40) in a /proc/net/tcp
    state: 0A listening, 01 established (the server's side of a connection)."""
    rows = stack.exec("backend", "cat", "/proc/net/tcp").stdout.splitlines()[1:]
    return sum(1 for row in rows if row.split()[1].endswith(":1F40") and row.split()[3] == state)


def test_gunicorn_is_pid_1_with_a_listening_worker_per_cpu(prod_stack):
    cpus = math.ceil(float(prod_stack.inspect("backend")["HostConfig"]["NanoCpus"]) / 1e9)
    # One master plus one worker per CPU the container may use, each worker with its own socket.
    assert len(prod_stack.gunicorn_workers()) == cpus
    assert gunicorn_sockets(prod_stack, "0A") == cpus
    assert prod_stack.exec("backend", "cat", "/proc/sys/net/ipv4/tcp_migrate_req").stdout.strip() == "1"
    cmdline = prod_stack.exec("backend", "cat", "/proc/1/cmdline").stdout.replace("\0", " ")
    assert "gunicorn" in cmdline, f"PID 1 is {cmdline!r}, so SIGTERM would not reach Gunicorn"


def test_connections_that_send_nothing_do_not_hold_up_requests(prod_stack):
    """A proxy's spare connections, preconnects and TCP checks open a connection and
    wait: twice as many as the backend has threads, then a request answered at once."""
    threads = int(prod_stack.exec("backend", "sh", "-c", "echo ${GUNICORN_THREADS:-4}").stdout)
    silent = 2 * threads * len(prod_stack.gunicorn_workers())
    script = f"""
import socket, time, urllib.request
silent = [socket.create_connection(("127.0.0.1", 8000)) for _ in range({silent})]
start = time.monotonic()
request = urllib.request.Request("http://127.0.0.1:8000/health/live/", headers={{"Host": "localhost"}})
urllib.request.urlopen(request, timeout=10).read()
print(round(time.monotonic() - start, 2))
"""
    seconds = float(prod_stack.exec("backend", "python", "-c", script).stdout)
    # gthread as released: each silent connection takes a thread for 5 s.
    assert seconds < 1, f"answered after {seconds} s with {silent} silent connections open"


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("WEB_CONCURRENCY", "four", "WEB_CONCURRENCY must be a whole number, got 'four'"),
        ("GUNICORN_THREADS", "0", "GUNICORN_THREADS must be at least 1, got 0"),
        ("GUNICORN_KEEPALIVE", "0", "GUNICORN_KEEPALIVE must be at least 1, got 0"),
        ("GUNICORN_ACCESS_LOG", "sometimes", "GUNICORN_ACCESS_LOG must be true or false, got 'sometimes'"),
    ],
)
def test_a_bad_gunicorn_setting_stops_the_backend_with_one_line(prod_stack, variable, value, complaint):
    env = {**prod_stack.env, variable: value}
    result = prod_stack.compose("run", "--rm", "backend", "gunicorn", env=env, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == f"configuration error: {complaint} (see .env.example)"
    assert "Traceback" not in result.stderr


def test_the_access_log_is_off_by_default_and_one_json_line_per_request_when_asked_for(prod_stack):
    def logged_requests(marker: str) -> list[dict]:
        http("GET", prod_stack.url("/api/products/"), headers={"User-Agent": marker})
        lines = prod_stack.compose("logs", "--no-log-prefix", "backend").stdout.splitlines()
        return [json.loads(line) for line in lines if marker in line]

    assert logged_requests(uuid.uuid4().hex) == []
    with_access_log = {**prod_stack.env, "GUNICORN_ACCESS_LOG": "true"}
    try:
        prod_stack.compose("up", "--detach", "--wait", "backend", env=with_access_log)
        (entry,) = logged_requests(marker := uuid.uuid4().hex)
        assert entry["path"] == "/api/products/" and entry["status"] == 200 and entry["method"] == "GET", entry
        assert entry["agent"] == marker
    finally:
        prod_stack.up("backend")


def test_check_deploy_is_clean(prod_stack):
    result = prod_stack.exec("backend", "python", "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert "no issues" in result.stdout


def test_containers_are_hardened(prod_stack):
    for service in ("backend", "db", "redis"):
        host = prod_stack.inspect(service)["HostConfig"]
        assert host["ReadonlyRootfs"] is True, service
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        assert host["CapDrop"] == ["ALL"], service
        assert host["Memory"] > 0 and host["NanoCpus"] > 0, service
        assert host["RestartPolicy"]["Name"] == "unless-stopped", service
        assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "5", "max-size": "10m"}}, service
    backend = prod_stack.inspect("backend")
    assert backend["Config"]["User"] == "1000:1000"
    assert prod_stack.exec("backend", "id", "-u").stdout.strip() == "1000"
    write = prod_stack.exec("backend", "touch", "/app/manage.py", check=False)
    assert write.returncode != 0


def test_the_production_image_carries_no_dev_tooling(prod_stack):
    image = prod_stack.inspect("backend")["Config"]["Image"]
    dev_modules = ("pytest", "debugpy", "ruff", "pre_commit", "uv")
    probe = f"import importlib.util as u; print([m for m in {dev_modules!r} if u.find_spec(m)])"
    result = run(["docker", "run", "--rm", "--entrypoint", "python", image, "-c", probe])
    assert result.stdout.strip() == "[]"
    tools = run(["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", "command -v gcc cc git psql || true"])
    assert tools.stdout.strip() == ""


def test_postgres_and_redis_are_not_reachable_from_the_host(prod_stack):
    for service in ("db", "redis"):
        ports = prod_stack.inspect(service)["NetworkSettings"]["Ports"] or {}
        assert all(not bindings for bindings in ports.values()), (service, ports)
        networks = prod_stack.inspect(service)["NetworkSettings"]["Networks"]
        assert list(networks) == [f"{prod_stack.project}_internal"], networks


def test_redis_refuses_commands_without_the_password(prod_stack):
    refused = prod_stack.exec("redis", "redis-cli", "ping", check=False)
    assert "NOAUTH" in refused.stdout + refused.stderr
    allowed = prod_stack.redis_cli("ping")
    assert allowed.stdout.strip() == "PONG"


def test_a_placeholder_secret_stops_the_backend_with_one_line(prod_stack):
    env = {**prod_stack.env, "SECRET_KEY": "change-me-to-50-random-characters-change-me-to-50-random"}
    result = prod_stack.compose("run", "--rm", "--no-deps", "backend", "gunicorn", env=env, check=False)
    assert result.returncode != 0
    assert "configuration error: SECRET_KEY still holds the example placeholder" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_gunicorn_gracefully(prod_stack):
    """A plain stop (as `down` and `restart` do) waits the service's stop_grace_period,
    longer than Gunicorn's 20 s graceful timeout, not Docker's 10 s."""
    assert prod_stack.inspect("backend")["Config"]["StopTimeout"] == 30
    prod_stack.compose("stop", "backend")
    state = prod_stack.inspect("backend")["State"]
    assert state["ExitCode"] == 0, state
    prod_stack.compose("start", "backend")
    prod_stack.up()
    assert http("GET", prod_stack.url("/health/ready/")).status == 200


def test_a_stop_while_starting_is_not_ignored(prod_stack):
    """A stop that lands while a server is still starting (importing Django, waiting for
    PostgreSQL) ends it at once: as PID 1 it dropped the signal, and the stop waited out
    the grace period (30 s for a replica, 100 s for a worker) before the engine killed it
    (desideliver_backend/runtime/startup.py). Each service starts here against a port
    where no PostgreSQL answers, so it stays in its start; it is stopped, with 5 s of
    grace, once its Python process has a SIGTERM handler. 137 would be the kill; with no
    handler before the server's own (which a start that never reaches PostgreSQL never
    installs), the wait for one fails."""
    services = ("backend", "worker", "beat")
    unanswered = {**prod_stack.env, "DB_PORT": "1"}
    try:
        for service in services:
            prod_stack.compose("up", "--detach", "--no-deps", "--force-recreate", service, env=unanswered)
            container = prod_stack.container_id(service)
            wait_for(partial(python_catches_sigterm, container), timeout=30, what=f"{service}'s SIGTERM handler")
            run(["docker", "stop", "--time", "5", container])
            state = prod_stack.inspect(service)["State"]
            assert state["ExitCode"] in {0, 143}, f"{service}: {state}"
    finally:
        prod_stack.up(*services)


def python_catches_sigterm(container: str) -> bool:
    """The container's PID 1 is the Python start-up (the entrypoint's shell has exec'd it)
    and catches SIGTERM, read from the host's /proc."""
    pid = run(["docker", "inspect", "-f", "{{.State.Pid}}", container]).stdout.strip()
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return b"desideliver_backend.runtime" in cmdline and bool(caught & (1 << (signal.SIGTERM - 1)))


def test_a_stopping_backend_does_not_wait_on_a_silent_connection(prod_stack):
    """A connection that never sent a request (the edge's spare one) is closed at once
    on SIGTERM, like idle kept-alive ones, not held for the 20 s graceful timeout."""
    holder = "import socket, time; s = socket.create_connection(('127.0.0.1', 8000)); time.sleep(600)"
    prod_stack.compose("exec", "-d", "backend", "python", "-c", holder)
    wait_for(lambda: gunicorn_sockets(prod_stack, "01") >= 1, timeout=10, what="the silent connection accepted")
    start = time.monotonic()
    prod_stack.compose("stop", "--timeout", "30", "backend")
    stopped_after = time.monotonic() - start
    prod_stack.compose("start", "backend")
    prod_stack.up()
    # Held, the connection would keep the worker for the whole 20 s graceful timeout; idle,
    # the stop takes about 3 s, and up to 10 with the suite's other stacks on the CPU.
    assert stopped_after < 15, f"stopping took {stopped_after:.1f} s"


def test_the_image_holds_code_and_templates_only(prod_stack):
    """What is in /app: no Redis dump, database, backup or .env rides along, even if
    one lies in the checkout (the build context)."""
    listed = prod_stack.exec(
        "backend",
        "find",
        "/app",
        "-type",
        "f",
        "-not",
        "-path",
        "/app/staticfiles/*",
        "-not",
        "-path",
        "/app/media/*",
        "-not",
        "-name",
        "*.pyc",
    ).stdout.split()  # fmt: skip (media is the uploads volume, not the image)
    suffixes = {Path(name).suffix for name in listed}
    assert suffixes <= {".py", ".txt", ".in", ".html"}, sorted(suffixes)
    assert "/app/manage.py" in listed


def test_gunicorn_and_the_app_stamp_their_log_lines_in_utc(prod_stack):
    logs = prod_stack.compose("logs", "--no-log-prefix", "backend").stdout
    gunicorn_lines = [line for line in logs.splitlines() if "[INFO] Booting worker" in line]
    assert gunicorn_lines, logs[-2000:]
    assert all("+0000]" in line for line in gunicorn_lines), gunicorn_lines[:3]


def test_one_request_id_follows_a_sign_up_from_the_edge_to_its_email_task(prod_stack):
    # A sign-up queues the address's verification email (users/services.py).
    signed_up = http(
        "POST",
        prod_stack.url("/api/auth/register/"),
        body={"email": f"request-id-{uuid.uuid4().hex[:8]}@example.in", "password": "stack-test-password-42"},
        headers={"X-Request-ID": "chosen-by-the-client"},
    )
    assert signed_up.status == 201, signed_up.body
    request_id = {name.lower(): value for name, value in signed_up.headers.items()}["x-request-id"]
    assert request_id != "chosen-by-the-client", "the edge's own ID, never the client's"

    def lines_of(service: str) -> list[dict]:
        logs = prod_stack.compose("logs", "--no-log-prefix", service).stdout.splitlines()
        return [json.loads(line) for line in logs if request_id in line and line.startswith("{")]

    def email_task_lines() -> list[dict]:
        return [line for line in lines_of("worker") if "send_outbox_email" in line["message"]]

    # The worker's own lines for the email (sent, or retried: either names the task).
    worker_lines = wait_for(email_task_lines, timeout=60, interval=0.5, what="the email task's lines with the ID")
    assert all(line["request_id"] == request_id for line in worker_lines)
    edge = [line for line in lines_of("proxy") if line.get("request", {}).get("uri") == "/api/auth/register/"]
    assert [line["request_id"] for line in edge] == [request_id]


def test_rotating_the_database_and_redis_passwords(prod_stack):
    """The documented rotation (docs/DEPLOY.md, "Rotating credentials") in variables: `up`
    recreates what reads them (test_secrets rotates the secret files' form). The stack keeps
    the new passwords; later tests read them from its environment."""
    old_db, old_redis = prod_stack.extra_env["DB_PASSWORD"], prod_stack.extra_env["REDIS_PASSWORD"]
    new_db, new_redis = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    rotate_database_password(prod_stack, new_db)
    prod_stack.extra_env.update(DB_PASSWORD=new_db, REDIS_PASSWORD=new_redis)
    prod_stack.up()
    assert_passwords(prod_stack, (new_db, new_redis), refused=(old_db, old_redis))
