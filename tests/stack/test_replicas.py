"""Three backend replicas behind the edge, under a steady stream of requests: every
replica takes a share; a rolling deploy, a restart and a killed replica fail no
request; a deploy of an image that never gets ready stops and leaves the old
replicas serving."""

import json
import os
import signal
import subprocess
import uuid
from collections import Counter

import pytest

from tests.stack.load import steady_load
from tests.stack.stack import REPO_DIR, container_healthy, http, run, wait_for

REPLICAS = 3


def backends(stack) -> list[str]:
    return stack.compose("ps", "-q", "backend").stdout.split()


def image_of(container: str) -> str:
    return run(["docker", "inspect", "-f", "{{.Image}}", container]).stdout.strip()


def derived_image(stack, tag: str, *dockerfile_lines: str) -> str:
    """The running backend image plus a few lines: a 'new release' without a rebuild."""
    base = "desideliver-stacktest/backend:current"
    run(["docker", "tag", image_of(backends(stack)[0]), base])
    dockerfile = "\n".join([f"FROM {base}", *dockerfile_lines]) + "\n"
    run(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile)
    return tag


@pytest.fixture(scope="module")
def scaled(prod_stack, shopper):
    """Three replicas, each logging its requests, so shares can be counted."""
    env = {**prod_stack.env, "GUNICORN_ACCESS_LOG": "true", "BACKEND_REPLICAS": str(REPLICAS)}
    prod_stack.compose("up", "--detach", "--wait", "backend", env=env)
    # Healthy is not yet routed to: the edge sends a new replica requests after
    # ready-backends' next passing probe and Caddy's next lookup (a second each).
    warmup = uuid.uuid4().hex

    def every_replica_answers() -> bool:
        http("GET", prod_stack.url("/api/products/"), headers={"User-Agent": warmup})
        return all(warmup in requests_logged(container) for container in backends(prod_stack))

    wait_for(every_replica_answers, timeout=30, interval=0.1, what="the edge routing to every replica")
    yield env
    prod_stack.compose("up", "--detach", "--wait", "backend")  # BACKEND_REPLICAS unset: one


def requests_logged(container: str) -> str:
    return run(["docker", "logs", container]).stdout


def deploy(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run([str(REPO_DIR / "scripts" / "deploy"), *args], env=env, check=False, timeout=900)


def report(capsys, line: str) -> None:
    with capsys.disabled():
        print(f"\n  {line}")


def test_an_up_keeps_the_declared_replicas(prod_stack, scaled):
    """`up -d` (after editing .env, or with the backup profile as docs/DEPLOY.md shows)
    used to put a backend scaled with `--scale` back to one replica."""
    before = sorted(backends(prod_stack))
    prod_stack.compose("up", "--detach", "--wait", env=scaled)
    assert sorted(backends(prod_stack)) == before
    model = json.loads(prod_stack.compose("--profile", "backup", "config", "--format", "json", env=scaled).stdout)
    assert model["services"]["backend"]["deploy"]["replicas"] == REPLICAS


def test_migrations_ran_once_and_requests_spread_over_every_replica(prod_stack, scaled, capsys):
    marker = uuid.uuid4().hex
    for _ in range(60):
        assert http("GET", prod_stack.url("/api/products/"), headers={"User-Agent": marker}).status == 200
    shares = Counter()
    for container in backends(prod_stack):
        shares[container[:12]] = requests_logged(container).count(marker)
    report(capsys, f"requests per replica: {dict(shares)}")
    assert len(shares) == REPLICAS
    assert all(count >= 10 for count in shares.values()), shares
    applied = prod_stack.psql("SELECT count(*) - count(DISTINCT (app, name)) FROM django_migrations").strip()
    assert applied == "0", "a migration was recorded twice"


def test_a_rolling_deploy_under_load_fails_no_request(prod_stack, scaled, capsys):
    image = derived_image(prod_stack, "desideliver-stacktest/backend:next", 'LABEL release="next"')
    old = set(backends(prod_stack))
    with steady_load(prod_stack.port) as load:
        result = deploy({**scaled, "BACKEND_IMAGE": image})
    assert result.returncode == 0, result.stderr[-3000:]
    assert load.failed == {}, load.outcomes
    new = backends(prod_stack)
    assert len(new) == REPLICAS and not old & set(new)
    assert {image_of(container) for container in new} == {image_of_tag(image)}
    assert "+ docker stop" in result.stderr, "the script prints what it runs"
    report(capsys, f"rolling deploy: {load.outcomes['ok']} requests answered, none failed")


def image_of_tag(tag: str) -> str:
    return run(["docker", "image", "inspect", "-f", "{{.Id}}", tag]).stdout.strip()


def test_a_deploy_that_never_gets_ready_stops_and_the_old_replicas_keep_serving(prod_stack, scaled):
    # A release that hangs at start: it never listens, so it never passes its health check.
    broken = derived_image(prod_stack, "desideliver-stacktest/backend:hangs", 'ENTRYPOINT ["sleep", "infinity"]')
    before = sorted(backends(prod_stack))
    with steady_load(prod_stack.port) as load:
        result = deploy({**scaled, "BACKEND_IMAGE": broken}, "--timeout", "20")
    assert result.returncode != 0
    assert "the old replicas are still serving" in result.stderr
    assert load.failed == {}, load.outcomes
    assert sorted(backends(prod_stack)) == before
    assert all(container_healthy(container) for container in before)


def test_a_restart_of_every_replica_fails_no_request(prod_stack, scaled):
    with steady_load(prod_stack.port) as load:
        prod_stack.compose("restart", "backend", env=scaled)
        wait_for(lambda: all(container_healthy(c) for c in backends(prod_stack)), timeout=120, what="replicas healthy")
    assert load.failed == {}, load.outcomes


def test_a_killed_replica_fails_no_request_and_comes_back(prod_stack, scaled):
    victim = backends(prod_stack)[0]
    restarts = int(run(["docker", "inspect", "-f", "{{.RestartCount}}", victim]).stdout)
    with steady_load(prod_stack.port) as load:
        # A crash (SIGKILL to the container's init), which the restart policy answers.
        os.kill(int(run(["docker", "inspect", "-f", "{{.State.Pid}}", victim]).stdout), signal.SIGKILL)
        wait_for(
            lambda: int(run(["docker", "inspect", "-f", "{{.RestartCount}}", victim]).stdout) > restarts,
            timeout=60,
            what="the restart",
        )
        wait_for(lambda: container_healthy(victim), timeout=120, what="the killed replica healthy again")
    assert load.failed == {}, load.outcomes


def edge_address(container: str) -> str:
    networks = json.loads(run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", container]).stdout)
    return next(network["IPAddress"] for name, network in networks.items() if name.endswith("_edge"))


# One A query to ready-backends' own port, from inside its container: the replicas it names now.
NAMED_BY_READY_BACKENDS = """
import socket, sys
sys.path.insert(0, "/usr/local/bin")
from ready_backends import dns_query
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2)
    sock.sendto(dns_query("backend", 1), ("127.0.0.1", 5353))
    answer = sock.recv(4096)
count = int.from_bytes(answer[6:8], "big")
print(" ".join(socket.inet_ntoa(answer[len(answer) - 4 - 16 * i:len(answer) - 16 * i]) for i in range(count)))
"""


def test_a_replica_failing_its_readiness_check_gets_no_requests_until_it_passes(prod_stack, scaled):
    # Frozen (paused), a replica still accepts connections in the kernel and answers
    # none of them: without health checks at the edge a third of the requests would hang.
    victim, ready_backends = backends(prod_stack)[0], prod_stack.container_id("ready-backends")
    address = edge_address(victim)
    since = run(["date", "+%s"]).stdout.strip()

    def named() -> set[str]:
        return set(run(["docker", "exec", ready_backends, "python", "-c", NAMED_BY_READY_BACKENDS]).stdout.split())

    def logged(text: str) -> bool:
        return text in run(["docker", "logs", "--since", since, ready_backends]).stdout

    def answered(count: int, **headers) -> bool:
        products = prod_stack.url("/api/products/")
        return all(http("GET", products, headers=headers, timeout=5).status == 200 for _ in range(count))

    # The earlier tests restart and kill replicas: this one starts from a victim in the list.
    wait_for(lambda: address in named(), timeout=30, what=f"ready-backends to name the replica ({address})")
    run(["docker", "pause", victim])
    try:
        try:
            wait_for(lambda: address not in named(), timeout=30, what=f"ready-backends to drop {address}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{run(['docker', 'logs', '--tail', '30', ready_backends]).stdout}") from None
        assert logged(f"{address} not ready")
        # The edge takes the new list at its next lookup (each second): three requests in a
        # row, round robin over three replicas, pass only once the frozen one is out.
        wait_for(lambda: answered(3), timeout=30, what="the edge to leave the frozen replica out")
        assert answered(30)
    finally:
        run(["docker", "unpause", victim])
    wait_for(lambda: address in named(), timeout=30, what="ready-backends to name the replica again")
    assert logged(f"{address} ready")
    marker = uuid.uuid4().hex
    wait_for(
        lambda: answered(3, **{"User-Agent": marker}) and marker in run(["docker", "logs", victim]).stdout,
        timeout=30,
        what="requests reaching the replica again",
    )
