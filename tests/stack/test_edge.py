"""The production edge: Caddy in front of the backend. Real TLS verified against Caddy's
own CA (never ``-k``), HTTP/2, the redirect from port 80, compression, media files,
the client's real address, and a certificate that outlives the containers."""

import base64
import hashlib
import json
import socket
import ssl
import uuid

import pytest

from tests.stack.stack import http, run, tls_context, wait_for

# A 1x1 PNG: what a product image upload leaves in the media volume.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def handshake(stack, ca_pem: str | None) -> tuple[str, bytes]:
    """TLS to the edge as a browser would (SNI localhost, offering h2): the protocol
    chosen and the server certificate."""
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", stack.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.selected_alpn_protocol(), tls.getpeercert(binary_form=True)


def test_tls_verifies_against_the_edges_own_ca_and_speaks_http2(prod_stack):
    protocol, certificate = handshake(prod_stack, prod_stack.edge_root_ca())
    assert protocol == "h2"
    assert certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(prod_stack, None)  # the system's CAs alone do not vouch for it


def test_plain_http_is_redirected_to_https(prod_stack):
    response = http("GET", f"http://localhost:{prod_stack.port + 1}/api/products/?page=2")
    assert response.status in (301, 308)
    assert response.headers["Location"] == "https://localhost/api/products/?page=2"


def test_responses_are_compressed_and_carry_hsts_once(prod_stack, shopper):
    for encoding in ("gzip", "zstd"):
        response = http("GET", prod_stack.url("/api/products/"), headers={"Accept-Encoding": encoding})
        assert response.status == 200
        assert response.headers.get("Content-Encoding") == encoding
    response = http("GET", prod_stack.url("/api/products/"))
    assert response.json()["results"], "the body arrives decoded when no compression is asked for"
    hsts = [value for name, value in response.headers.items() if name.lower() == "strict-transport-security"]
    assert len(hsts) == 1 and "max-age=31536000" in hsts[0], hsts
    assert "Server" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_edge_is_published(prod_stack):
    for service in ("backend", "worker", "beat", "db", "redis", "cache"):
        published = prod_stack.inspect(service)["HostConfig"]["PortBindings"] or {}
        assert published == {}, f"{service} publishes {published}"
    bindings = prod_stack.inspect("proxy")["HostConfig"]["PortBindings"]
    assert set(bindings) == {"80/tcp", "443/tcp", "443/udp"}
    assert {binding["HostIp"] for ports in bindings.values() for binding in ports} == {"127.0.0.1"}


def test_admin_and_static_files_work_through_the_edge(prod_stack):
    login = http("GET", prod_stack.url("/admin/login/"))
    assert login.status == 200 and b"csrfmiddlewaretoken" in login.body
    manifest = json.loads(prod_stack.exec("backend", "cat", "/app/staticfiles/staticfiles.json").stdout)
    static = http("GET", prod_stack.url(f"/static/{manifest['paths']['admin/css/base.css']}"))
    assert static.status == 200
    assert "max-age=315360000" in static.headers["Cache-Control"]


def test_a_spoofed_forwarded_for_does_not_change_the_client_address_django_sees(prod_stack):
    """The login throttle counts per client address, in Redis: its key names the address."""
    spoofed = "203.0.113.77"
    email = f"spoof-{uuid.uuid4().hex[:8]}@example.in"
    http(
        "POST",
        prod_stack.url("/api/auth/login/"),
        body={"email": email, "password": "wrong-password-123"},
        headers={"X-Forwarded-For": spoofed, "X-Real-IP": spoofed, "Forwarded": f"for={spoofed}"},
    )
    keys = prod_stack.redis_cli("--scan", "--pattern", "*throttle_login:address_*").stdout.split()
    addresses = {key.rsplit("_", 1)[1] for key in keys}
    # Connections to a loopback-published port reach Caddy from the edge network's gateway.
    networks = prod_stack.inspect("proxy")["NetworkSettings"]["Networks"]
    client = next(network["Gateway"] for name, network in networks.items() if name.endswith("_edge"))
    assert client in addresses, addresses
    assert spoofed not in addresses


def test_media_is_served_by_the_edge_with_nosniff_and_a_script_blocking_policy(prod_stack):
    name = f"products/edge-{uuid.uuid4().hex[:8]}.png"
    store = "import base64, os, sys; os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True); "
    store += "open(sys.argv[1], 'wb').write(base64.b64decode(sys.argv[2]))"
    prod_stack.exec("backend", "python", "-c", store, f"/app/media/{name}", base64.b64encode(PNG).decode())
    response = http("GET", prod_stack.url(f"/media/{name}"))
    assert response.status == 200
    assert hashlib.sha256(response.body).hexdigest() == hashlib.sha256(PNG).hexdigest()
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    mounts = {mount["Destination"]: mount["RW"] for mount in prod_stack.inspect("proxy")["Mounts"]}
    assert mounts["/srv/media"] is False, "the edge reads the media volume, never writes it"


def test_the_proxy_is_hardened_and_healthy(prod_stack):
    proxy = prod_stack.inspect("proxy")
    host = proxy["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert [cap.removeprefix("CAP_") for cap in host["CapAdd"]] == ["NET_BIND_SERVICE"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["Memory"] > 0 and host["NanoCpus"] > 0
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert proxy["State"]["Health"]["Status"] == "healthy"


def test_one_json_access_line_per_request_at_the_edge(prod_stack):
    marker = uuid.uuid4().hex
    http("GET", prod_stack.url("/api/products/"), headers={"User-Agent": marker})
    lines = prod_stack.compose("logs", "--no-log-prefix", "proxy").stdout.splitlines()
    entries = [json.loads(line) for line in lines if marker in line]
    assert len(entries) == 1, entries
    (entry,) = entries
    assert entry["request"]["uri"] == "/api/products/" and entry["status"] == 200
    assert entry["request"]["proto"] == "HTTP/1.1" and entry["request"]["tls"]["server_name"] == "localhost"


def test_the_certificate_survives_down_and_up(prod_stack):
    _, before = handshake(prod_stack, prod_stack.edge_root_ca())
    prod_stack.compose("down")
    prod_stack.up()
    prod_stack.wait_ready()
    _, after = handshake(prod_stack, prod_stack.edge_root_ca())
    assert hashlib.sha256(after).hexdigest() == hashlib.sha256(before).hexdigest()
    issued = run(["docker", "logs", prod_stack.container_id("proxy")]).stderr
    assert "certificate obtained successfully" not in issued, "a restart must not issue a new certificate"


def test_a_body_over_the_limit_is_refused_at_the_edge(prod_stack):
    """A declared body over EDGE_MAX_BODY_BYTES (10 MiB) gets 413 from the edge, which
    stops reading and closes the connection: Caddy 2.11 (Go's server) answers once
    the client sends, so the client sends until the edge hangs up, then reads."""
    size = 11 * 1024 * 1024
    with (
        socket.create_connection(("127.0.0.1", prod_stack.port), timeout=30) as raw,
        tls_context().wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(
            f"POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        sent = 0
        try:
            while sent < size:
                tls.sendall(b"x" * 65536)
                sent += 65536
        except OSError:
            pass  # the edge stopped reading: its answer is waiting
        answer = tls.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert http("POST", prod_stack.url("/api/auth/login/"), body={"email": "a@b.in", "password": "x"}).status == 401


@pytest.fixture
def behind_a_load_balancer(prod_stack):
    """The edge in its plain-HTTP mode, and the edge and Django both believing the host
    (standing in for a cloud load balancer that terminated TLS) as a proxy."""
    networks = prod_stack.inspect("proxy")["NetworkSettings"]["Networks"]
    balancer = next(network["Gateway"] for name, network in networks.items() if name.endswith("_edge"))
    env = {
        **prod_stack.env,
        "EDGE_SITE_ADDRESS": "http://localhost",
        "EDGE_TRUSTED_PROXIES": f"{balancer}/32",
        "TRUSTED_PROXIES": f"docker-networks,{balancer}/32",
    }
    prod_stack.compose("up", "--detach", "--no-deps", "--force-recreate", "--wait", "backend", "proxy", env=env)
    yield f"http://localhost:{prod_stack.port + 1}"
    prod_stack.compose("up", "--detach", "--no-deps", "--force-recreate", "--wait", "backend", "proxy")
    wait_for(lambda: http("GET", prod_stack.url("/health/ready/")).status == 200, timeout=60, what="HTTPS back")


def test_behind_a_load_balancer_the_edge_speaks_http_and_believes_only_the_balancer(prod_stack, behind_a_load_balancer):
    client = "198.51.100.23"
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": client}
    assert http("GET", f"{behind_a_load_balancer}/api/products/", headers=forwarded).status == 200
    # Without the balancer's word that the client used HTTPS, Django sends it there.
    redirected = http("GET", f"{behind_a_load_balancer}/api/products/")
    assert redirected.status == 301 and redirected.headers["Location"].startswith("https://")
    http(
        "POST",
        f"{behind_a_load_balancer}/api/auth/login/",
        body={"email": f"lb-{uuid.uuid4().hex[:8]}@example.in", "password": "wrong-password-123"},
        headers=forwarded,
    )
    keys = prod_stack.redis_cli("--scan", "--pattern", "*throttle_login:address_*").stdout.split()
    assert client in {key.rsplit("_", 1)[1] for key in keys}, "the balancer's client is the one Django sees"


def test_clients_trickling_their_bodies_do_not_freeze_the_api(prod_stack, shopper):
    """64 sign-ins that send headers and a first byte of their body, then stall (as a
    client sending a byte every few seconds does): the edge holds them, and the
    backends' threads (2 workers x 4 threads) stay free for everyone else."""
    context = tls_context()
    assert http("GET", prod_stack.url("/api/products/")).status == 200  # the list is cached from here on
    stalled = []
    try:
        for _ in range(64):
            raw = socket.create_connection(("127.0.0.1", prod_stack.port), timeout=10)
            tls = context.wrap_socket(raw, server_hostname="localhost")
            tls.sendall(
                b"POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: 64\r\n\r\n{"
            )
            stalled.append(tls)
        for path in ("/health/live/", "/api/products/"):
            response = http("GET", prod_stack.url(path), timeout=5)
            assert response.status == 200, (path, response.status)
    finally:
        for tls in stalled:
            tls.close()
