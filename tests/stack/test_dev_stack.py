"""The development stack: healthy services, the API, hot reload, volumes, manage.py."""

import socket
import time
import uuid

import pytest

from tests.stack.stack import REPO_DIR, clean_env, http, run, wait_for

PASSWORD = "stack-test-password-42"


def test_every_service_is_healthy(dev_stack):
    for service in ("backend", "db", "redis"):
        assert dev_stack.inspect(service)["State"]["Health"]["Status"] == "healthy", service
    ready = http("GET", dev_stack.url("/health/ready/"))
    assert ready.status == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "cache": "ok"}


def test_ports_are_published_on_loopback_only(dev_stack):
    for service in ("backend", "db", "redis"):
        for bindings in dev_stack.inspect(service)["NetworkSettings"]["Ports"].values():
            for binding in bindings or []:
                assert binding["HostIp"] == "127.0.0.1", (service, binding)


def test_a_customer_can_register_log_in_browse_fill_a_cart_and_order(dev_stack):
    dev_stack.exec("backend", "python", "manage.py", "seed_demo")
    email = f"stack-{uuid.uuid4().hex[:8]}@example.in"
    registered = http("POST", dev_stack.url("/api/auth/register/"), body={"email": email, "password": PASSWORD})
    assert registered.status == 201, registered.body
    token = http("POST", dev_stack.url("/api/auth/login/"), body={"email": email, "password": PASSWORD}).json()[
        "access"
    ]

    products = http("GET", dev_stack.url("/api/products/?search=atta")).json()["results"]
    assert products and products[0]["name"] == "Chakki Atta"
    added = http(
        "POST", dev_stack.url("/api/cart/add/"), token=token, body={"product": products[0]["id"], "quantity": 2}
    )
    assert added.status == 201
    assert added.json()["subtotal"] == "530.00"

    address = http(
        "POST",
        dev_stack.url("/api/auth/me/addresses/"),
        token=token,
        body={"line1": "4 Marine Drive", "city": "Mumbai", "state": "Maharashtra", "pin_code": "400002"},
    )
    assert address.status == 201, address.body
    order = http("POST", dev_stack.url("/api/orders/create/"), token=token, body={"address": address.json()["id"]})
    assert order.status == 201, order.body
    assert order.json()["total"] == "530.00"
    # The worker sent the email to the mail catcher (MailDev's API lists what it caught).
    mail_api = f"http://127.0.0.1:{dev_stack.extra_env['MAIL_WEB_PORT']}/email"
    caught = wait_for(
        lambda: [m for m in http("GET", mail_api).json() if f"order #{order.json()['id']}" in m["subject"]],
        timeout=30,
        what="the order email in the mail catcher",
    )
    assert caught[0]["to"][0]["address"] == email


def test_a_saved_view_change_is_served_without_a_restart(dev_stack):
    views = REPO_DIR / "backend" / "cart" / "views.py"
    original = views.read_text()
    old_doc = '"""The signed-in user\'s cart with server-side totals."""'
    assert old_doc in original
    marker = f"Hot reload marker {uuid.uuid4().hex}"
    started_at = dev_stack.inspect("backend")["State"]["StartedAt"]

    def schema_mentions(text):
        response = http("GET", dev_stack.url("/api/schema/?format=json"), timeout=5)
        return response.status == 200 and text in response.body.decode()

    try:
        views.write_text(original.replace(old_doc, f'"""{marker}"""'))
        saved = time.monotonic()
        wait_for(lambda: schema_mentions(marker), timeout=30, what="the changed view to be served")
        elapsed = time.monotonic() - saved
    finally:
        views.write_text(original)
    wait_for(lambda: not schema_mentions(marker), timeout=30, what="the original view to be served again")
    assert dev_stack.inspect("backend")["State"]["StartedAt"] == started_at, "the container was restarted"
    print(f"hot reload served the change after {elapsed:.1f} s")


def test_a_syntax_error_does_not_take_the_container_down(dev_stack):
    views = REPO_DIR / "backend" / "cart" / "views.py"
    original = views.read_text()
    try:
        views.write_text(original + "\nthis is not python\n")
        time.sleep(3)
        assert dev_stack.inspect("backend")["State"]["Running"] is True
    finally:
        views.write_text(original)
    dev_stack.wait_ready(timeout=30)  # the server came back after the fix


def test_manage_py_runs_in_the_backend_container(dev_stack):
    dev_stack.exec("backend", "python", "manage.py", "migrate", "--check")
    assert (
        "No changes detected"
        in dev_stack.exec("backend", "python", "manage.py", "makemigrations", "--check", "--dry-run").stdout
    )
    round_trip = dev_stack.django_shell(
        "from django.core.cache import cache; cache.set('stack-probe', 'namaste', 30); print(cache.get('stack-probe'))"
    )
    assert round_trip == "namaste"
    keys = dev_stack.exec("redis", "redis-cli", "--scan", "--pattern", "*stack-probe*").stdout
    assert "stack-probe" in keys, "the value did not reach Redis"
    dbshell = dev_stack.compose("exec", "-T", "backend", "python", "manage.py", "dbshell", input="SELECT 40 + 2;\n")
    assert "42" in dbshell.stdout


def test_files_written_in_the_checkout_belong_to_its_owner(dev_stack):
    probe = REPO_DIR / f".stack-owner-probe-{uuid.uuid4().hex[:6]}"
    try:
        dev_stack.exec("backend", "touch", f"/workspace/{probe.name}")
        assert probe.stat().st_uid == REPO_DIR.stat().st_uid
    finally:
        probe.unlink(missing_ok=True)
    server_uids = {
        line.split()[0]
        for line in dev_stack.exec("backend", "ps", "-eo", "uid=,args=").stdout.splitlines()
        if "runserver" in line
    }
    assert server_uids == {str(REPO_DIR.stat().st_uid)}, "the dev server must run as the checkout's owner"
    pycache = list((REPO_DIR / "backend").rglob("__pycache__"))
    foreign = [path for path in pycache if path.stat().st_uid != REPO_DIR.stat().st_uid]
    assert not foreign, f"the container left foreign-owned caches in the checkout: {foreign[:3]}"


def test_data_survives_down_and_up_and_down_v_removes_it(dev_stack):
    email = f"persist-{uuid.uuid4().hex[:8]}@example.in"
    assert http("POST", dev_stack.url("/api/auth/register/"), body={"email": email, "password": PASSWORD}).status == 201

    def can_log_in():
        return (
            http("POST", dev_stack.url("/api/auth/login/"), body={"email": email, "password": PASSWORD}).status == 200
        )

    dev_stack.compose("down")
    dev_stack.up()
    assert can_log_in(), "the account did not survive docker compose down/up"

    dev_stack.compose("down", "--volumes")
    dev_stack.up()
    assert not can_log_in(), "docker compose down -v left the data behind"


@pytest.fixture
def occupied_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_doctor_names_a_taken_port_and_the_fix(occupied_port):
    result = run(["scripts/doctor"], env=clean_env(BACKEND_PORT=str(occupied_port)), check=False)
    assert result.returncode == 1
    assert f"port {occupied_port} (the API) is taken by" in result.stdout
    assert "set BACKEND_PORT to a free port" in result.stdout


def test_doctor_prod_checks_the_edge_ports_and_the_kernel(occupied_port):
    result = run(["scripts/doctor", "--prod"], env=clean_env(EDGE_HTTPS_PORT=str(occupied_port)), check=False)
    assert result.returncode == 1
    assert f"port {occupied_port} (the edge's HTTPS) is taken by" in result.stdout
    assert "(5.14+ for net.ipv4.tcp_migrate_req)" in result.stdout  # this engine's kernel is new enough


def test_doctor_prod_warns_before_the_replicas_pass_max_connections():
    def doctor(**env):
        free = {"EDGE_HTTP_PORT": "18191", "EDGE_HTTPS_PORT": "18192"}
        return run(["scripts/doctor", "--prod"], env=clean_env(**free, **env), check=False)

    # (10 + 1 during a deploy) x 2 workers x 4 threads + 2 Celery + beat + backup = 92 of 97.
    assert "PostgreSQL sessions: up to 92 of 97" in doctor(BACKEND_REPLICAS="10").stdout
    crowded = doctor(BACKEND_REPLICAS="12")
    assert crowded.returncode == 1
    assert "up to 108 PostgreSQL sessions" in crowded.stdout and "turn on the pooler" in crowded.stdout
    pooled = doctor(BACKEND_REPLICAS="12", DB_HOST="pooler", POOLER_POOL_SIZE="20")
    assert "through the pooler: 20 pooled + 2 direct of 97 (the app asks for up to 108)" in pooled.stdout
    assert doctor(DB_HOST="pooler", POOLER_POOL_SIZE="40", DB_MAX_CONNECTIONS="40").returncode == 1
