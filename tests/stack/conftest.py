"""The stack suite: real images and containers, driven from the host.

It uses compose projects of its own (desideliver-stacktest, -prod) on their own
ports and volumes, so a developer's running stack and data are never touched.
A machine without a working Docker engine fails this suite; it never skips.
"""

import json
import os
import secrets
import socket
import uuid
from typing import NamedTuple

import pytest

from tests.stack import swarm_mode
from tests.stack.stack import Stack, dev_ports, edge_env, http, register_and_login, run

# Every stack of the suite probes its services every three seconds: `up --wait` and waits
# for "healthy" return a second or two after the fact, and the probes leave the CPU to the
# tests (docker-compose.yml, "x-healthcheck-timing", has the figures).
os.environ.setdefault("HEALTHCHECK_INTERVAL", "3s")

DEV_PORT = 18000


class ProdStack(NamedTuple):
    project: str
    port: int
    # SECRETS_IN_FILES as files (NAME empty, NAME_FILE naming the file), the documented
    # alternative to variables: every test of its modules proves that form too.
    secrets_in_files: bool = False


# Three production stacks, so that their tests run side by side on three workers: each
# module's tests use one of them (PROD_STACK_OF_MODULE; prod-stack unless named there),
# placed so that the groups take about as long (the summary below measures them). HTTPS
# at the edge; plain HTTP on the next port.
PROD_STACKS = {
    "prod-stack": ProdStack("desideliver-stacktest-prod", 18100),
    "prod-stack-b": ProdStack("desideliver-stacktest-prod-b", 18500),
    "prod-stack-files": ProdStack("desideliver-stacktest-secrets", 18300, secrets_in_files=True),
}
PROD_STACK_OF_MODULE = {
    # test_replicas and test_pooler on one stack, so one after the other: the pooler's ten
    # replicas starting at once took the CPU from the restart of test_replicas' three, which
    # then outlasted the edge's 30 s hold (deploy/caddy/Caddyfile, lb_try_duration).
    **dict.fromkeys(
        ("test_background", "test_faults", "test_fuzz", "test_monitoring", "test_recovery"), "prod-stack-b"
    ),
    **dict.fromkeys(
        ("test_media_s3", "test_api_docs", "test_supply_chain", "test_tracing", "test_secrets"), "prod-stack-files"
    ),
}
SECRETS_IN_FILES = {"SECRET_KEY": 50, "DB_PASSWORD": 16, "REDIS_PASSWORD": 24}  # name: random bytes

PROD_SECRETS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DB_PASSWORD": secrets.token_urlsafe(16),
    "REDIS_PASSWORD": secrets.token_urlsafe(24),
    "ALLOWED_HOSTS": "localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    # Every request of the suite comes from one address, and one shopper places every
    # order; the API suite tests the real rates and limits.
    "THROTTLE_RATES": "login=10000/minute,register=10000/hour,refresh=10000/minute,password_reset=10000/hour,"
    "orders=10000/hour",
    "ORDER_MAX_PENDING": "10000",
    "OUTBOX_UNVERIFIED_PER_HOUR": "10000",
    # The email fault tests wait out a dead worker's claim, the sweep and retries: short ones.
    "OUTBOX_SWEEP_SECONDS": "5",
    "OUTBOX_SWEEP_GRACE_SECONDS": "3",
    "OUTBOX_CLAIM_SECONDS": "10",
    "OUTBOX_BACKOFF_SECONDS": "2",
}


# The groups that take longest, started first (each worker takes the next group when it is
# nearly done with one: longest first keeps the last worker from finishing alone).
# Measured with the summary below; the other groups follow in collection order.
LONGEST_GROUPS_FIRST = ["prod-stack", "prod-stack-b", "test_swarm", "prod-stack-files", "dev-stack"]
# Modules that replace their stack's database or passwords: after every other module of their group.
LAST_IN_GROUP = {"test_recovery", "test_secrets"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """One xdist group per stack (scripts/dev test-stack runs three workers, --dist loadgroup
    with --no-loadscope-reorder): every test of one shared production stack on one worker,
    every test of the shared dev stack on one worker, and each other module (a stack of
    its own, or none) apart. The Swarm tests are one group among the others (swarm_mode.py)."""
    groups = {}
    for item in items:
        group = stack_group(item) or item.module.__name__.rsplit(".", 1)[-1]
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
    rank = {group: position for position, group in enumerate(LONGEST_GROUPS_FIRST)}
    items.sort(  # stable: modules keep their order
        key=lambda item: (
            rank.get(groups[item.nodeid], len(rank)),
            item.module.__name__.rsplit(".", 1)[-1] in LAST_IN_GROUP,
        )
    )


def prod_stack_group(module) -> str:
    return PROD_STACK_OF_MODULE.get(module.__name__.rsplit(".", 1)[-1], "prod-stack")


_group_seconds: dict[str, float] = {}
_swarm_to_leave = pytest.StashKey[dict]()


def pytest_runtest_logreport(report):
    """Adds up each group's time (setup, call and teardown), for the summary below."""
    group = report.nodeid.rpartition("@")[2] if "@" in report.nodeid else None
    if group:
        _group_seconds[group] = _group_seconds.get(group, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if _group_seconds:
        terminalreporter.section("seconds per xdist group (one stack each), longest first")
        for group, seconds in sorted(_group_seconds.items(), key=lambda entry: -entry[1]):
            terminalreporter.write_line(f"{seconds:7.1f}s  {group}")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """A worker that ran the Swarm tests hands over the Swarm to leave (swarm_mode.py)."""
    membership = getattr(node, "workeroutput", {}).get(swarm_mode.HANDOVER)
    if membership:
        node.config.stash[_swarm_to_leave] = membership


def pytest_sessionfinish(session):
    """Every worker has finished, and their stacks are down: the Swarm can be left."""
    membership = session.config.stash.get(_swarm_to_leave, None)
    if membership:
        problem = swarm_mode.leave(membership)
        if problem:
            session.config.pluginmanager.get_plugin("terminalreporter").write_line(f"ERROR: {problem}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_xdist_node_collection_finished(node, ids):
    """Two workers that each started a shared stack would tear down each other's
    containers: stop at once if xdist did not tag the tests with their group."""
    if node.config.getoption("dist") == "loadgroup" and any("@" not in nodeid for nodeid in ids):
        pytest.exit("xdist did not group the tests by stack (pytest-xdist#1386): see tests/stack/requirements.txt", 3)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session", autouse=True)
def docker_engine():
    result = run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False)
    if result.returncode != 0:
        pytest.fail(f"the stack suite needs a running Docker engine: {result.stderr.strip()}", pytrace=False)
    return result.stdout.strip()


def _start(stack: Stack, ports: dict[str, str]) -> None:
    stack.down("--volumes")
    taken = [f"{name}={port}" for name, port in ports.items() if not _port_free(int(port))]
    if taken:
        pytest.fail(f"host ports needed by the stack suite are taken: {', '.join(taken)}", pytrace=False)
    stack.up("--build")


@pytest.fixture(scope="session")
def dev_stack():
    ports = dev_ports(DEV_PORT)
    stack = Stack("desideliver-stacktest", "docker-compose.yml", DEV_PORT, ports)
    _start(stack, ports)
    yield stack
    stack.down("--volumes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A shared stack's tests are one group, run back to back on one worker: after the last
    of them the stack goes down, instead of idling (probed every three seconds, its app
    processes awake) until the session ends beside the stacks still at work. After the
    module fixtures' own teardown, which may still use the stack."""
    yield
    group = stack_group(item)
    if group is None or (nextitem is not None and stack_group(nextitem) == group):
        return
    if group == "dev-stack":
        item.funcargs["dev_stack"].down("--volumes")
    else:
        item.funcargs["prod_stacks"].pop(group).down("--volumes")


def stack_group(item) -> str | None:
    """The shared stack an item runs on (its xdist group), if any."""
    if "prod_stack" in item.fixturenames:
        return prod_stack_group(item.module)
    return "dev-stack" if "dev_stack" in item.fixturenames else None


def production_stack(group: str = "prod-stack") -> Stack:
    """One of the suite's production stacks (PROD_STACKS), not started."""
    project, port, _ = PROD_STACKS[group]
    env = {**PROD_SECRETS, **edge_env(port)}
    return Stack(project, "docker-compose.prod.yml", port, env, scheme="https")


@pytest.fixture(scope="session")
def prod_stacks():
    """The production stacks this worker has started, by group; down at the end."""
    started: dict[str, Stack] = {}
    yield started
    for stack in started.values():
        stack.down("--volumes")


@pytest.fixture(scope="module")
def prod_stack(request, prod_stacks, tmp_path_factory):
    """The module's production stack, started by its first module on this worker."""
    group = prod_stack_group(request.module)
    if group not in prod_stacks:
        stack = production_stack(group)
        if PROD_STACKS[group].secrets_in_files:
            put_secrets_in_files(stack, tmp_path_factory.mktemp("secrets"))
        _start(stack, {name: port for name, port in stack.extra_env.items() if name.endswith("_PORT")})
        stack.trust_edge()
        stack.wait_ready()
        prod_stacks[group] = stack
    return prod_stacks[group]


def put_secrets_in_files(stack: Stack, folder) -> None:
    """SECRETS_IN_FILES as files, new values: NAME empty and NAME_FILE naming its file."""
    for name, size in SECRETS_IN_FILES.items():
        path = folder / name.lower()
        path.write_text(secrets.token_urlsafe(size) + "\n")
        path.chmod(0o444)  # the backend reads it as uid 1000
        stack.extra_env.update({name: "", f"{name}_FILE": str(path)})


@pytest.fixture(scope="session")
def production_images() -> dict[str, str]:
    """The production stack's images by service, the backend's and the database's (PostgreSQL
    with pgBackRest, which Swarm cannot build) built (from the build cache, after the suite's
    first session) without starting that stack."""
    stack = production_stack()
    stack.compose("build", "backend", "db", timeout=900)
    services = json.loads(stack.compose("config", "--format", "json").stdout)["services"]
    return {service: services[service]["image"] for service in ("backend", "db")}


@pytest.fixture(scope="session")
def production_image(production_images) -> str:
    return production_images["backend"]


@pytest.fixture(scope="session")
def production_database_image(production_images) -> str:
    return production_images["db"]


_shoppers: dict[str, tuple[str, int, int]] = {}


@pytest.fixture(scope="module")
def shopper(prod_stack):
    """A customer with an address, and a well-stocked product to order (one per stack, until
    a module that CHANGES_THE_CATALOGUE has run on it)."""
    if prod_stack.project not in _shoppers:
        _shoppers[prod_stack.project] = new_shopper(prod_stack)
    return _shoppers[prod_stack.project]


@pytest.fixture(scope="module", autouse=True)
def catalogue_changes(request):
    """After a module whose tests edit the catalogue as staff do (test_fuzz), the next
    module on its stack gets a new shopper: the old one's product may be gone or out of stock."""
    yield
    if getattr(request.module, "CHANGES_THE_CATALOGUE", False):
        _shoppers.pop(PROD_STACKS[prod_stack_group(request.module)].project, None)


def new_shopper(prod_stack) -> tuple[str, int, int]:
    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    token = register_and_login(prod_stack, f"faults-{uuid.uuid4().hex[:6]}@example.in")
    address = http(
        "POST",
        prod_stack.url("/api/auth/me/addresses/"),
        token=token,
        body={"line1": "7 Park Street", "city": "Kolkata", "state": "West Bengal", "pin_code": "700016"},
    ).json()
    prod_stack.psql("UPDATE products_product SET stock = 100000")
    product = http("GET", prod_stack.url("/api/products/?search=Onion")).json()["results"][0]
    return token, address["id"], product["id"]
