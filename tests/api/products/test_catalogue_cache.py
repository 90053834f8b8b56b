"""The catalogue cache serves only the request it was built for, and no write leaves it stale.

Every write path moves the catalogue version in PostgreSQL (triggers); writes made
through Django also drop Redis's copy of the version at once. Writes Django cannot
see are served stale for at most CATALOGUE_VERSION_SECONDS.
"""

import json
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from orders.models import Order
from products import catalogue_cache
from products.catalogue_cache import django_cache as cache
from products.models import Product
from tests.api.conftest import make_product
from tests.api.core.test_health import REDIS_DOWN, caches_with_redis_at

pytestmark = pytest.mark.django_db


def price_seen(api, product) -> str:
    return api.get(f"/api/products/{product.pk}/").json()["price"]


def database_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value::text FROM products_catalogueversion")
        return cursor.fetchone()[0]


def wait_for_price(api, product, price: str, settings) -> float:
    """Polls until anonymous reads show ``price``; returns how long that took."""
    started = time.monotonic()
    deadline = started + settings.CATALOGUE_VERSION_SECONDS + 3
    while price_seen(api, product) != price:
        assert time.monotonic() < deadline, f"still not {price} after {time.monotonic() - started:.1f} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_an_encoded_ampersand_is_a_value_not_a_second_parameter(api, vegetables):
    make_product(vegetables, "Onion", "38.00")
    make_product(vegetables, "Garlic", "120.00")
    crafted = api.get("/api/products/?category=vegetables%26search%3Donion")
    assert crafted.status_code == 200
    assert crafted.json()["count"] == 0  # no category has that slug
    honest = api.get("/api/products/?category=vegetables&search=onion")
    assert [p["name"] for p in honest.json()["results"]] == ["Onion"]


def test_parameters_the_view_does_not_read_make_no_new_entries(api, vegetables):
    make_product(vegetables, "Onion", "38.00")
    for n in range(20):
        assert api.get(f"/api/products/?x={n}&utm_source=spam{n}").status_code == 200
    assert len(cache.keys("catalogue:product-list:*")) == 1
    for query in ("search=on", "ordering=-price", "page_size=5", "category=vegetables", "page=1"):
        api.get(f"/api/products/?{query}")
    assert len(cache.keys("catalogue:product-list:*")) == 6, "a parameter the view reads is part of the key"
    assert api.get("/api/products/?search=zzz&x=1").json()["count"] == 0


def test_the_catalogue_cache_lives_apart_from_the_throttle_counters(settings):
    assert settings.CACHES["catalogue"]["OPTIONS"].get("IGNORE_EXCEPTIONS") is True
    assert not settings.CACHES["default"]["OPTIONS"].get("IGNORE_EXCEPTIONS")


def test_repeated_parameters_are_part_of_the_key(api, vegetables, dairy):
    make_product(vegetables, "Onion", "38.00")
    make_product(dairy, "Paneer", "90.00")
    first = api.get("/api/products/?category=vegetables&category=dairy").json()["results"]
    second = api.get("/api/products/?category=dairy&category=vegetables").json()["results"]
    assert [p["name"] for p in first] == ["Paneer"]  # DRF takes the last value
    assert [p["name"] for p in second] == ["Onion"]


def test_admin_bulk_delete_invalidates(api, client, staff, onion, tomato, django_capture_on_commit_callbacks):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    assert len(api.get("/api/products/").json()["results"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/products/product/",
            {"action": "delete_selected", "_selected_action": [onion.pk, tomato.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert api.get("/api/products/").json()["results"] == []
    assert api.get(f"/api/products/{onion.pk}/").status_code == 404


def test_queryset_update_invalidates(api, onion, django_capture_on_commit_callbacks):
    assert price_seen(api, onion) == "38.00"
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=onion.pk).update(price="44.00")
    assert price_seen(api, onion) == "44.00"


def test_loaddata_invalidates(api, onion, tmp_path, django_capture_on_commit_callbacks):
    assert price_seen(api, onion) == "38.00"
    fixture = tmp_path / "prices.json"
    fields = {
        "category": onion.category_id, "name": "Onion", "slug": "onion", "price": "47.00", "unit": "1 kg",
        "stock": 10, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    fixture.write_text(json.dumps([{"model": "products.product", "pk": onion.pk, "fields": fields}]))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("loaddata", str(fixture), verbosity=0)
    assert price_seen(api, onion) == "47.00"


def test_a_write_django_never_sees_is_served_for_at_most_the_version_lifetime(api, onion, settings):
    assert price_seen(api, onion) == "38.00"
    before = database_version()
    with connection.cursor() as cursor:  # psql, a restore, another program
        cursor.execute("UPDATE products_product SET price = 52.00 WHERE id = %s", [onion.pk])
    assert database_version() != before
    assert wait_for_price(api, onion, "52.00", settings) <= settings.CATALOGUE_VERSION_SECONDS + 1


def test_a_write_made_while_redis_is_down_is_not_served_stale_once_it_is_back(staff_api, api, onion, settings):
    assert price_seen(api, onion) == "38.00"
    with override_settings(CACHES=caches_with_redis_at(REDIS_DOWN, settings)):
        assert staff_api.patch(f"/api/products/{onion.pk}/", {"price": "61.00"}, format="json").status_code == 200
    assert cache.get(catalogue_cache.VERSION_KEY) is not None, "Redis still holds the copy from before"
    assert wait_for_price(api, onion, "61.00", settings) <= settings.CATALOGUE_VERSION_SECONDS + 1


def test_orders_and_cancellations_invalidate_the_stock_shown(
    customer_api, api, onion, address, django_capture_on_commit_callbacks
):
    assert api.get(f"/api/products/{onion.pk}/").json()["stock"] == 10
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 3}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        placed = customer_api.post("/api/orders/create/", {"address": address.pk}, format="json")
    assert placed.status_code == 201
    assert api.get(f"/api/products/{onion.pk}/").json()["stock"] == 7
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = customer_api.post(f"/api/orders/{placed.json()['id']}/cancel/")
    assert cancelled.json()["status"] == Order.Status.CANCELLED
    assert api.get(f"/api/products/{onion.pk}/").json()["stock"] == 10


def test_an_entry_is_never_labelled_with_a_version_newer_than_its_data(api, onion):
    """A cached body carries the version read before it was built."""
    api.get(f"/api/products/{onion.pk}/")
    keys = cache.keys("catalogue:product-detail:*")
    assert len(keys) == 1
    version, body = cache.get(keys[0])
    assert version == database_version()
    assert json.loads(body)["price"] == "38.00"


def test_customers_share_the_anonymous_entries_but_staff_read_the_database(api, customer_api, staff_api, onion):
    onion.is_active = False
    onion.save()
    assert api.get(f"/api/products/{onion.pk}/").status_code == 404
    assert customer_api.get(f"/api/products/{onion.pk}/").status_code == 404
    assert staff_api.get(f"/api/products/{onion.pk}/").status_code == 200


def test_a_lost_version_row_comes_back_with_the_next_write(api, onion, settings):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM products_catalogueversion")
        cursor.execute("UPDATE products_product SET price = 39.00 WHERE id = %s", [onion.pk])
    assert database_version()
    assert wait_for_price(api, onion, "39.00", settings) <= settings.CATALOGUE_VERSION_SECONDS + 1
