import logging

import pytest
from django.test import override_settings

from products.catalogue_cache import django_cache as catalogue_cache
from tests.api.conftest import make_product

pytestmark = pytest.mark.django_db

# A real Redis client pointed at a port nothing listens on: Redis is down.
REDIS_DOWN = "redis://127.0.0.1:9/0"


def caches_with_redis_at(url, settings):
    return {alias: {**cache, "LOCATION": url} for alias, cache in settings.CACHES.items()}


def test_liveness_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/", HTTP_HOST="not-an-allowed-host.example")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_ok_when_postgres_and_redis_answer(client):
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readiness_is_503_naming_redis_when_redis_is_down(client, settings):
    with override_settings(CACHES=caches_with_redis_at(REDIS_DOWN, settings)):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "unavailable", "exception text must stay in the log"


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
