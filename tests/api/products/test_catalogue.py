import io

import pytest

from products.models import Category, Product
from tests.api.conftest import make_product

pytestmark = pytest.mark.django_db


def names(response):
    return [product["name"] for product in response.json()["results"]]


def test_product_list_is_public_and_paginated(api, vegetables):
    for i in range(25):
        make_product(vegetables, f"Item {i:02d}", "10.00")
    first = api.get("/api/products/")
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"].endswith("page=2")
    assert len(api.get("/api/products/?page=2").json()["results"]) == 5
    assert len(api.get("/api/products/?page_size=5").json()["results"]) == 5


def test_product_fields_carry_price_as_a_decimal_string(api, onion):
    product = api.get(f"/api/products/{onion.pk}/").json()
    assert product["price"] == "38.00"
    assert product["category_name"] == "Vegetables"
    assert product["in_stock"] is True
    assert product["unit"] == "1 kg"


def test_filter_by_category_slug_or_id(api, onion, tomato, paneer):
    assert sorted(names(api.get("/api/products/?category=vegetables"))) == ["Onion", "Tomato"]
    assert names(api.get(f"/api/products/?category={paneer.category_id}")) == ["Paneer"]
    assert names(api.get("/api/products/?category=no-such-category")) == []


def test_search_by_name_is_case_insensitive(api, onion, tomato, paneer):
    assert names(api.get("/api/products/?search=TOM")) == ["Tomato"]


def test_order_by_price_both_ways(api, onion, tomato, paneer):
    assert names(api.get("/api/products/?ordering=price")) == ["Tomato", "Onion", "Paneer"]
    assert names(api.get("/api/products/?ordering=-price")) == ["Paneer", "Onion", "Tomato"]


def test_inactive_products_and_categories_are_hidden_from_customers(api, onion, tomato, paneer, staff_api):
    tomato.is_active = False
    tomato.save()
    Category.objects.filter(slug="dairy").update(is_active=False)
    assert names(api.get("/api/products/")) == ["Onion"]
    assert api.get(f"/api/products/{tomato.pk}/").status_code == 404
    assert sorted(names(staff_api.get("/api/products/"))) == ["Onion", "Paneer", "Tomato"]


def test_unknown_product_is_404(api):
    assert api.get("/api/products/999999/").status_code == 404


def test_categories_are_listed_in_position_order(api, dairy, vegetables):
    response = api.get("/api/categories/")
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()] == ["vegetables", "dairy"]


def test_staff_can_create_update_and_delete_products(staff_api, vegetables):
    payload = {
        "name": "Garlic",
        "slug": "garlic",
        "category": vegetables.pk,
        "price": "24.00",
        "unit": "250 g",
        "stock": 40,
    }
    created = staff_api.post("/api/products/", payload, format="json")
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert staff_api.patch(f"/api/products/{product_id}/", {"price": "26.50"}, format="json").json()["price"] == "26.50"
    assert staff_api.delete(f"/api/products/{product_id}/").status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()


def test_staff_product_validation_errors_are_400(staff_api, vegetables):
    payload = {
        "name": "Garlic",
        "slug": "garlic",
        "category": vegetables.pk,
        "price": "-1",
        "unit": "250 g",
        "stock": -5,
    }
    response = staff_api.post("/api/products/", payload, format="json")
    assert response.status_code == 400
    assert {"price", "stock"} <= set(response.json())


def test_customers_cannot_write_the_catalogue(customer_api, api, onion, vegetables):
    assert customer_api.patch(f"/api/products/{onion.pk}/", {"price": "1.00"}, format="json").status_code == 403
    assert customer_api.post("/api/categories/", {"name": "X", "slug": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/products/{onion.pk}/").status_code == 401
    onion.refresh_from_db()
    assert str(onion.price) == "38.00"


def test_product_reads_are_served_from_redis_without_queries(api, onion, django_assert_num_queries):
    api.get("/api/products/")
    api.get(f"/api/products/{onion.pk}/")
    with django_assert_num_queries(0):
        assert names(api.get("/api/products/")) == ["Onion"]
        assert api.get(f"/api/products/{onion.pk}/").json()["name"] == "Onion"


def test_a_product_change_invalidates_cached_lists_and_details(api, onion, django_capture_on_commit_callbacks):
    assert api.get(f"/api/products/{onion.pk}/").json()["price"] == "38.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "38.00"
    with django_capture_on_commit_callbacks(execute=True):
        onion.price = "41.00"
        onion.save()
    assert api.get(f"/api/products/{onion.pk}/").json()["price"] == "41.00"
    assert api.get("/api/products/").json()["results"][0]["price"] == "41.00"


def test_malformed_json_is_400(staff_api):
    response = staff_api.generic(
        "POST", "/api/products/", io.BytesIO(b"{not json").read(), content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_deleting_a_category_that_still_has_products_is_a_409(staff_api, onion, vegetables):
    response = staff_api.delete(f"/api/categories/{vegetables.pk}/")
    assert response.status_code == 409
    assert "products still refer to it" in response.json()["detail"]
    assert Category.objects.filter(pk=vegetables.pk).exists()


def test_cached_pages_keep_each_hosts_own_pagination_links(api, vegetables, settings):
    settings.ALLOWED_HOSTS = ["api.desideliver.in", "localhost"]
    for i in range(25):
        make_product(vegetables, f"Item {i:02d}", "10.00")
    first = api.get("/api/products/", HTTP_HOST="api.desideliver.in").json()["next"]
    second = api.get("/api/products/", HTTP_HOST="localhost").json()["next"]
    assert first.startswith("http://api.desideliver.in/")
    assert second.startswith("http://localhost/")


def test_an_anonymous_cache_hit_is_answered_before_sessions_and_auth(api, onion, django_assert_num_queries):
    api.get("/api/products/")
    with django_assert_num_queries(0):
        response = api.get("/api/products/")
    assert response.status_code == 200
    assert "Vary" not in response or "Cookie" not in response["Vary"], "the session layer ran"
    assert response["Content-Type"] == "application/json"


def test_staff_manage_categories_and_everyone_reads_them(staff_api, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = staff_api.post("/api/categories/", {"name": "Sweets", "slug": "sweets"}, format="json")
    assert created.status_code == 201
    category_id = created.json()["id"]
    assert api.get(f"/api/categories/{category_id}/").json()["name"] == "Sweets"
    with django_capture_on_commit_callbacks(execute=True):
        renamed = staff_api.patch(f"/api/categories/{category_id}/", {"name": "Mithai"}, format="json")
    assert renamed.json()["name"] == "Mithai"
    assert api.get(f"/api/categories/{category_id}/").json()["name"] == "Mithai"
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.delete(f"/api/categories/{category_id}/").status_code == 204
    assert api.get(f"/api/categories/{category_id}/").status_code == 404
