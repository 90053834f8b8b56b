"""PostgreSQL connections when replicas grow: ten backend replicas of six threads each
(60 connections at full load, docs/DEPLOY.md "PostgreSQL connections") against a
PostgreSQL with max_connections=40. Through the pooler (PgBouncer, transaction pooling,
20 server connections) every request is answered and PostgreSQL never sees more than
the pool; straight to PostgreSQL the same load runs out of connections."""

import threading
import time

import pytest

from tests.stack.load import steady_load
from tests.stack.stack import run, wait_for

REPLICAS, THREADS, MAX_CONNECTIONS, POOL_SIZE = 10, 6, 40, 20
# Each run: every thread busy from the first request to the last, long enough that a
# replica straight to PostgreSQL is refused many times over (hundreds of 503s).
REQUESTS = 1500
APP_SERVICES = ("backend", "worker", "beat")


def sessions_in_use(stack) -> list[str]:
    """The app role's sessions on PostgreSQL now (client address, application, state): those
    over the network, so not this psql's (the container's socket, like a psql still closing)."""
    sql = (
        "SELECT client_addr, application_name, state FROM pg_stat_activity"
        " WHERE usename = current_user AND client_addr IS NOT NULL"
    )
    return stack.psql(sql).splitlines()


class Sampler(threading.Thread):
    """The most sessions seen, sampled while a block runs."""

    def __init__(self, stack):
        super().__init__(daemon=True)
        self.stack, self.most, self.busiest, self._done = stack, 0, [], threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            sessions = sessions_in_use(self.stack)
            if len(sessions) > self.most:
                self.most, self.busiest = len(sessions), sessions
            time.sleep(0.2)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=30)


@pytest.fixture(scope="module")
def crowded(prod_stack):
    """PostgreSQL with 40 connections, and the environment of ten six-thread replicas."""
    env = {
        **prod_stack.env,
        "DB_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "BACKEND_REPLICAS": str(REPLICAS),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": str(THREADS),
        "POOLER_POOL_SIZE": str(POOL_SIZE),
    }
    prod_stack.compose("up", "--detach", "--wait", "db", env=env)
    assert prod_stack.psql("SHOW max_connections").strip() == str(MAX_CONNECTIONS)
    yield env
    prod_stack.compose("--profile", "pooler", "rm", "--stop", "--force", "pooler")
    prod_stack.compose("up", "--detach", "--wait", "db", *APP_SERVICES, timeout=900)


def answered(load, count: int) -> None:
    wait_for(lambda: sum(load.outcomes.values()) >= count, timeout=180, what=f"{count} requests answered")


def load_on_the_database(stack):
    # Readiness runs a query on each request: every thread of every replica holds a connection.
    return steady_load(stack.port, "/health/ready/", threads=REPLICAS * THREADS)


def test_ten_replicas_through_the_pooler_fit_forty_connections(prod_stack, crowded, capsys):
    pooled = {**crowded, "DB_HOST": "pooler", "DB_DIRECT_HOST": "db"}
    prod_stack.compose(
        "--profile", "pooler", "up", "--detach", "--wait", "pooler", *APP_SERVICES, env=pooled, timeout=900
    )
    sampler = Sampler(prod_stack)
    sampler.start()
    with load_on_the_database(prod_stack) as load:
        answered(load, REQUESTS)
    sampler.stop()
    with capsys.disabled():
        print(f"\n  pooled: {dict(load.outcomes)}, at most {sampler.most} PostgreSQL sessions")
    assert load.failed == {}, load.outcomes
    assert sampler.most <= POOL_SIZE, f"{sampler.most} sessions, the pool is {POOL_SIZE}: {sampler.busiest}"


def test_the_same_replicas_straight_to_postgresql_run_out_of_connections(prod_stack, crowded, capsys):
    prod_stack.compose("up", "--detach", "--wait", *APP_SERVICES, env=crowded, timeout=900)
    since = run(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]).stdout.strip()
    with load_on_the_database(prod_stack) as load:
        answered(load, REQUESTS)
    with capsys.disabled():
        print(f"\n  direct: {dict(load.outcomes)}")
    # 10 x 6 threads want 60 sessions; PostgreSQL has 40 (3 of them for superusers).
    assert load.failed.get("status 503", 0) > 0, load.outcomes
    refused = prod_stack.compose("logs", "--since", since, "db").stdout
    assert "too many clients already" in refused or "remaining connection slots are reserved" in refused
