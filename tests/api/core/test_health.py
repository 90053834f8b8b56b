import logging
import threading
import time

import pytest
from django.test import override_settings

from desideliver_backend.middleware import health
from products.catalogue_cache import django_cache as catalogue_cache
from tests.api.conftest import make_product

pytestmark = pytest.mark.django_db

# A real Redis client pointed at a port nothing listens on: Redis is down.
REDIS_DOWN = "redis://127.0.0.1:9/0"


@pytest.fixture(autouse=True)
def no_outage_remembered():
    """Readiness remembers, per process, what was down at the last probe."""
    health._down_before.clear()
    yield
    health._down_before.clear()


def caches_with_redis_at(url, settings):
    return {alias: {**cache, "LOCATION": url} for alias, cache in settings.CACHES.items()}


def test_liveness_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/", HTTP_HOST="not-an-allowed-host.example")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_ok_when_postgres_and_both_redis_answer(client):
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "cache": "ok"}}


def test_redis_down_leaves_the_replica_ready_and_reports_it_degraded(client, settings, caplog):
    """Every replica shares Redis: taking them all out of rotation would turn a site that
    runs without its cache into a 503 for everyone."""
    with override_settings(CACHES=caches_with_redis_at(REDIS_DOWN, settings)), caplog.at_level(logging.WARNING):
        first = client.get("/health/ready/")
        second = client.get("/health/ready/")
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["cache", "redis"]
    assert body["checks"] == {"database": "ok", "redis": "unavailable", "cache": "unavailable"}
    errors = [r.getMessage() for r in caplog.records if r.name == "desideliver.health" and r.levelno == logging.ERROR]
    assert len(errors) == 2, "one ERROR line per component when its outage starts, not one per probe"
    assert all("serving degraded" in message for message in errors), errors
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert client.get("/health/ready/").json()["status"] == "ok"
    assert sorted(r.getMessage() for r in caplog.records if r.name == "desideliver.health") == [
        "readiness: cache is back",
        "readiness: redis is back",
    ]


def test_redis_checks_that_hang_answer_degraded_within_one_wait(client, monkeypatch, caplog):
    """Redis names that take seconds to resolve (both instances stopped) must not make the
    probe slower than the edge waits for it (READY_BACKENDS_TIMEOUT, 2 s): the two checks
    share one wait, they are not waited for one after the other."""
    release, calls = threading.Event(), []
    for name in ("redis", "cache"):
        monkeypatch.setitem(health.OPTIONAL, name, lambda name=name: calls.append(name) or release.wait(10))
    try:
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            response = client.get("/health/ready/")
        took = time.monotonic() - started
        # The next probe neither queues the checks again nor waits for them again.
        again = time.monotonic()
        assert client.get("/health/ready/").json()["degraded"] == ["cache", "redis"]
        assert time.monotonic() - again < health.OPTIONAL_WAIT_SECONDS / 2
        assert sorted(calls) == ["cache", "redis"]
    finally:
        release.set()
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable", "cache": "unavailable"}
    assert health.OPTIONAL_WAIT_SECONDS <= took < health.OPTIONAL_WAIT_SECONDS + 0.5
    assert sum("no answer within" in record.getMessage() for record in caplog.records) == 2


def test_while_an_outage_lasts_a_probe_waits_for_the_redis_checks_briefly(client, monkeypatch):
    """The first probe of an outage may wait OPTIONAL_WAIT_SECONDS; the next ones, whose
    checks fail slowly (a lookup that takes seconds, then an error), do not, so that no two
    probes in a row come near the edge's timeout on a busy host. A Redis that is back is
    seen at once."""
    redis = {"down": True, "gate": threading.Event()}
    finished = []

    def redis_check():
        done = threading.Event()
        finished.append(done)
        try:
            if redis["down"]:
                redis["gate"].wait(10)
                raise ConnectionError("Error -3 connecting to redis:6379. Temporary failure in name resolution.")
        finally:
            done.set()

    def fail_the_running_check():
        redis["gate"].set()
        assert finished[-1].wait(5)
        redis["gate"] = threading.Event()

    monkeypatch.setitem(health.OPTIONAL, "redis", redis_check)
    try:
        assert client.get("/health/ready/").json()["degraded"] == ["redis"]
        for _ in range(2):
            fail_the_running_check()
            started = time.monotonic()
            assert client.get("/health/ready/").json()["degraded"] == ["redis"]
            assert time.monotonic() - started < health.RECHECK_WAIT_SECONDS + 0.2
        fail_the_running_check()
        redis["down"] = False
        assert client.get("/health/ready/").json()["status"] == "ok"
    finally:
        redis["gate"].set()


def test_only_the_catalogue_cache_down_is_degraded_naming_it(client, settings):
    caches = {**settings.CACHES, "catalogue": {**settings.CACHES["catalogue"], "LOCATION": REDIS_DOWN}}
    with override_settings(CACHES=caches):
        response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["degraded"] == ["cache"]


def test_product_reads_fall_back_to_postgres_when_redis_is_down(api, vegetables, settings, caplog):
    make_product(vegetables, "Onion", "38.00")
    with override_settings(CACHES=caches_with_redis_at(REDIS_DOWN, settings)), caplog.at_level(logging.ERROR):
        listed = api.get("/api/products/")
        detail = api.get(f"/api/products/{listed.json()['results'][0]['id']}/")
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()["results"]] == ["Onion"]
    assert detail.status_code == 200
    assert any(record.name == "desideliver.cache" for record in caplog.records), "the cache failure was not logged"
    # With Redis back, caching resumes.
    api.get("/api/products/")
    assert catalogue_cache.keys("catalogue:product-list:*")
