"""The production stack on a real single-node Swarm (this engine), deployed by
scripts/swarm from a fresh copy of the checkout: HTTPS through the edge, three
backend tasks all taking requests, an update under load that fails no request, an
image that never gets healthy rolled back by Swarm with no failed request, a killed
task replaced, and data that outlives `docker stack rm`. The engine is left as it
was found (tests/stack/swarm_mode.py): a Swarm this suite joined is left again once
every other stack of the session is down.

About three minutes, the engine in Swarm mode meanwhile."""

import json
import os
import secrets
import signal
import uuid

import pytest

from tests.stack import swarm_mode
from tests.stack.checkout import copy_checkout
from tests.stack.load import steady_load
from tests.stack.stack import (
    EDGE_ROOT_CA,
    clean_env,
    container_healthy,
    http,
    place_order,
    register_and_login,
    run,
    trust_certificate,
    wait_for,
)

pytestmark = pytest.mark.swarm

# Not desideliver-stacktest: that is the dev stack's compose project, and its volumes
# (desideliver-stacktest_postgres-data) would be this stack's.
STACK = "desideliver-swarmtest"
PORT = 18400  # HTTPS at the edge; plain HTTP on the next port
# The monitoring profile's stand-ins (scripts/base-images/build), when the suite runs on them.
MONITORING_IMAGES = ("PROMETHEUS_IMAGE", "ALERTMANAGER_IMAGE", "POSTGRES_EXPORTER_IMAGE", "REDIS_EXPORTER_IMAGE",
                     "BLACKBOX_EXPORTER_IMAGE", "NODE_EXPORTER_IMAGE")  # fmt: skip


def url(path: str) -> str:
    return f"https://localhost:{PORT}{path}"


def containers(service: str) -> list[str]:
    """Running containers of one of the stack's services (one node: all of them are here)."""
    found = run(["docker", "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={STACK}_{service}"])
    return found.stdout.split()


def stack_containers() -> list[str]:
    found = run(["docker", "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={STACK}"])
    return found.stdout.split()


def service_image(service: str) -> str:
    spec = json.loads(run(["docker", "service", "inspect", f"{STACK}_{service}"]).stdout)[0]
    return spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]


def app_images() -> list[str]:
    """The images of the backend, worker and beat services (what scripts/swarm update rolls)."""
    return [service_image(service) for service in ("backend", "worker", "beat")]


def converged(service: str, replicas: int) -> bool:
    running = containers(service)
    return len(running) == replicas and all(container_healthy(container) for container in running)


class Swarm:
    def __init__(self, checkout, env):
        self.checkout, self.env = checkout, env

    def script(self, *args: str, check: bool = True):
        return run([str(self.checkout / "scripts" / "swarm"), *args], env=self.env, cwd=self.checkout, check=check,
                   timeout=900)  # fmt: skip

    def exec(self, service: str, *args: str) -> str:
        return run(["docker", "exec", containers(service)[0], *args]).stdout

    def wait_ready(self) -> None:
        wait_for(lambda: "BEGIN CERTIFICATE" in self.exec("proxy", "cat", EDGE_ROOT_CA), timeout=120, what="the CA")
        trust_certificate(self.exec("proxy", "cat", EDGE_ROOT_CA))
        wait_for(lambda: http("GET", url("/health/ready/"), timeout=3).status == 200, timeout=180, what="ready")


@pytest.fixture(scope="module")
def swarm(production_image, tmp_path_factory, request):
    """The stack deployed on this engine's Swarm, with the production image the suite built."""
    membership = swarm_mode.join(production_image, STACK)
    try:
        yield from stack_on_this_engine(production_image, tmp_path_factory)
    finally:
        swarm_mode.hand_over_or_leave(request.config, membership)


def stack_on_this_engine(production_image, tmp_path_factory):
    checkout = copy_checkout(tmp_path_factory.mktemp("swarm-checkout"))
    folder = tmp_path_factory.mktemp("swarm-secrets")
    env = clean_env(
        STACK_NAME=STACK,
        SWARM_RESOLVE_IMAGE="never",
        ALLOWED_HOSTS="localhost",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        THROTTLE_RATES="login=10000/minute,register=10000/hour,refresh=10000/minute,password_reset=10000/hour",
        GUNICORN_ACCESS_LOG="true",
        # Migrations of an empty database take seconds; the never-healthy release is
        # rolled back sooner.
        BACKEND_START_PERIOD="20s",
        # The backup service and the monitoring profile run as Swarm services too (but
        # Grafana, which has no image here).
        COMPOSE_PROFILES="monitoring",
        GRAFANA_REPLICAS="0",
        BACKUP_INTERVAL="5",
        BACKUP_KEEP="2",
        EDGE_HTTPS_PORT=str(PORT),
        EDGE_HTTP_PORT=str(PORT + 1),
        BACKEND_IMAGE=production_image,
        **{
            name: os.environ[name]
            for name in ("CADDY_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "HEALTHCHECK_INTERVAL", *MONITORING_IMAGES)
            if name in os.environ
        },
    )
    for name, length in (("SECRET_KEY", 50), ("DB_PASSWORD", 16), ("REDIS_PASSWORD", 24), ("SENDGRID_API_KEY", 20)):
        path = folder / name.lower()
        path.write_text(secrets.token_urlsafe(length) + "\n")
        path.chmod(0o444)
        env[f"{name}_FILE"] = str(path)
    stack = Swarm(checkout, env)
    try:
        yield stack
    finally:
        stack.script("rm", check=False)
        wait_for(lambda: not stack_containers(), timeout=120, what="every container of the stack gone")
        volumes = run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}"])
        for volume in volumes.stdout.split():
            run(["docker", "volume", "rm", volume], check=False)


@pytest.fixture(scope="module")
def deployed(swarm):
    result = swarm.script("deploy")
    assert "+ docker stack deploy" in result.stderr, "the script prints what it runs"
    try:
        wait_for(lambda: converged("backend", 2), timeout=240, what="two backend tasks healthy")
    except AssertionError as failure:
        tasks = run(["docker", "service", "ps", "--no-trunc", f"{STACK}_backend"], check=False).stdout
        logs = run(["docker", "service", "logs", "--tail", "30", f"{STACK}_backend"], check=False)
        raise AssertionError(f"{failure}\n{tasks}\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}") from None
    swarm.wait_ready()
    swarm.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    return swarm


def test_the_api_scenario_works_over_https_through_the_edge(deployed):
    token = register_and_login_at(f"swarm-{uuid.uuid4().hex[:6]}@example.in")
    address = http(
        "POST",
        url("/api/auth/me/addresses/"),
        token=token,
        body={"line1": "5 Ring Road", "city": "Delhi", "state": "Delhi", "pin_code": "110001"},
    ).json()["id"]
    product = http("GET", url("/api/products/?search=Onion")).json()["results"][0]["id"]
    status, order = place_order(Edge(), (token, address, product))
    assert status == 201 and order["status"] == "pending"


class Edge:
    """Enough of a Stack for the shared helpers: URLs at the Swarm's edge."""

    def url(self, path: str) -> str:
        return url(path)


def register_and_login_at(email: str) -> str:
    return register_and_login(Edge(), email)


def test_three_backend_tasks_all_take_requests(deployed, capsys):
    deployed.script("scale", "backend=3")
    wait_for(lambda: converged("backend", 3), timeout=180, what="three backend tasks healthy")
    marker = uuid.uuid4().hex
    # Caddy picks up a new task within its DNS refresh; then round robin covers all three.
    wait_for(lambda: all(count > 0 for count in spread(marker, requests=30).values()), timeout=60, what="spread")
    shares = spread(marker, requests=0)
    with capsys.disabled():
        print(f"\n  requests per Swarm task: {shares}")
    assert len(shares) == 3 and all(count >= 5 for count in shares.values()), shares


def spread(marker: str, requests: int) -> dict[str, int]:
    for _ in range(requests):
        http("GET", url("/api/products/"), headers={"User-Agent": marker})
    return {c[:12]: run(["docker", "logs", c]).stdout.count(marker) for c in containers("backend")}


def derived_image(tag: str, *lines: str) -> str:
    base = "desideliver-stacktest/backend:swarm-base"
    run(["docker", "tag", service_image("backend"), base])
    run(["docker", "build", "-q", "-t", tag, "-"], input="\n".join([f"FROM {base}", *lines]) + "\n")
    return tag


def test_the_backup_service_runs_on_the_swarm(deployed):
    """(A run before PostgreSQL was up fails and says so; the next ones succeed.)"""

    def good_backups() -> list[str]:
        logs = run(["docker", "service", "logs", "--raw", f"{STACK}_backup"])
        return [line for line in (logs.stdout + logs.stderr).splitlines() if line.startswith("backup ok ")]

    wait_for(lambda: len(good_backups()) >= 2, timeout=120, what="two scheduled backups")
    assert all(line.startswith("backup ok /backups/desideliver-prod-") for line in good_backups())
    assert all(", base backup " in line for line in good_backups())  # pgBackRest's, beside the dump
    # Every 5 s was for this test: the rest of the module's tests get the CPU back.
    run(["docker", "service", "scale", "--detach", f"{STACK}_backup=0"])


def test_prometheus_scrapes_every_task_of_the_swarm(deployed):
    """The monitoring profile on Swarm: every backend and worker task found by DNS and
    scraped, and the exporters' targets up, from Prometheus's own API inside its task."""

    def health() -> dict[str, list[str]]:
        answer = json.loads(
            deployed.exec("prometheus", "wget", "-q", "-O", "-", "http://127.0.0.1:9090/api/v1/targets")
        )
        jobs: dict[str, list[str]] = {}
        for target in answer["data"]["activeTargets"]:
            jobs.setdefault(target["labels"]["job"], []).append(target["health"])
        return jobs

    expected = {"backend", "worker", "edge", "postgres", "redis", "certificate", "node", "alertmanager", "prometheus"}

    def all_up() -> bool:
        jobs = health()
        return (
            set(jobs) == expected
            and all(set(states) == {"up"} for states in jobs.values())
            and len(jobs["backend"]) == len(containers("backend"))
        )

    try:
        wait_for(all_up, timeout=120, what="every target of the Swarm up in Prometheus")
    except AssertionError as failure:
        raise AssertionError(f"{failure}: {health()}") from None


def test_an_update_under_load_fails_no_request(deployed):
    image = derived_image("desideliver-stacktest/backend:swarm-next", 'LABEL release="next"')
    with steady_load(PORT) as load:
        deployed.script("update", image)
    assert load.failed == {}, load.outcomes
    assert app_images() == [image] * 3
    assert {run(["docker", "inspect", "-f", "{{.Config.Image}}", c]).stdout.strip() for c in containers("backend")} == {
        image
    }


def test_an_image_that_never_gets_healthy_is_rolled_back_by_swarm(deployed):
    before = app_images()
    hangs = derived_image("desideliver-stacktest/backend:swarm-hangs", 'ENTRYPOINT ["sleep", "infinity"]')
    with steady_load(PORT) as load:
        result = deployed.script("update", hangs, check=False)
    assert result.returncode != 0
    assert "rolled it back" in result.stderr
    assert load.failed == {}, load.outcomes
    # The worker and beat were not touched: the backend goes first.
    assert app_images() == before
    wait_for(lambda: converged("backend", 3), timeout=180, what="three healthy tasks on the old image")


def test_a_killed_backend_task_is_replaced(deployed):
    victim = containers("backend")[0]
    os.kill(int(run(["docker", "inspect", "-f", "{{.State.Pid}}", victim]).stdout), signal.SIGKILL)
    wait_for(lambda: victim not in containers("backend") and converged("backend", 3), timeout=180, what="replaced")


def test_data_survives_stack_rm_and_a_new_deploy(deployed):
    email = f"kept-{uuid.uuid4().hex[:6]}@example.in"
    register_and_login_at(email)
    deployed.script("rm")
    wait_for(lambda: not stack_containers(), timeout=120, what="the stack gone")
    # Swarm removes the stack's networks a moment after its tasks.
    wait_for(lambda: not run(["docker", "network", "ls", "-q", "--filter", f"name={STACK}_"]).stdout, timeout=60,
             what="the networks gone")  # fmt: skip
    deployed.script("deploy")
    wait_for(lambda: converged("backend", 2), timeout=240, what="backend healthy again")
    deployed.wait_ready()
    login = http("POST", url("/api/auth/login/"), body={"email": email, "password": "stack-test-password-42"})
    assert login.status == 200, "the account made before the stack was removed is still there"
