"""Concurrent requests lose no update and never end in a 500: real transactions on PostgreSQL."""

import uuid

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from cart.models import Cart
from orders.models import Order
from products.models import Category, Product
from tests.api.concurrency import Racers, Rollback
from tests.api.conftest import client_for, make_address, make_user
from users.models import Address, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    category = Category.objects.create(name="Fruits", slug="fruits")
    mango = Product.objects.create(category=category, name="Mango", slug="mango", price="99.00", unit="1 kg", stock=10)
    buyer = make_user("buyer@example.in")
    address = make_address(buyer, is_default=True)
    staff = make_user("staff@desideliver.in", staff=True)
    staff.is_superuser = True
    staff.save()
    return mango, client_for(buyer), address, staff


def put_in_cart(client, product, quantity):
    assert (
        client.post("/api/cart/add/", {"product": product.pk, "quantity": quantity}, format="json").status_code == 201
    )


def test_a_staff_price_edit_racing_an_order_keeps_the_sold_units_sold(shop):
    mango, buyer, address, staff = shop
    put_in_cart(buyer, mango, 3)
    racers = Racers()
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=mango.pk)
        racers.start(lambda: buyer.post("/api/orders/create/", {"address": address.pk}, format="json").status_code)
        # The edit reads the product (stock 10) now, and writes after the order has committed.
        racers.start(
            lambda: (
                client_for(staff).patch(f"/api/products/{mango.pk}/", {"price": "120.00"}, format="json").status_code
            )
        )
    assert racers.finish() == [201, 200]
    mango.refresh_from_db()
    assert (mango.stock, str(mango.price)) == (7, "120.00")


def test_a_stale_absolute_stock_is_refused_and_an_adjustment_is_applied(shop):
    mango, buyer, address, staff = shop
    staff_api = client_for(staff)
    seen = staff_api.get(f"/api/products/{mango.pk}/").json()["stock"]  # the page the editor loaded
    put_in_cart(buyer, mango, 3)
    assert buyer.post("/api/orders/create/", {"address": address.pk}, format="json").status_code == 201

    stale = staff_api.patch(f"/api/products/{mango.pk}/", {"stock": seen + 5}, format="json")
    assert stale.status_code == 400
    assert "stock_adjustment" in stale.json()["stock"][0]
    adjusted = staff_api.patch(f"/api/products/{mango.pk}/", {"stock_adjustment": 5}, format="json")
    assert adjusted.status_code == 200
    assert adjusted.json()["stock"] == 12
    too_many = staff_api.patch(f"/api/products/{mango.pk}/", {"stock_adjustment": -13}, format="json")
    assert too_many.status_code == 400
    assert "stock_adjustment" in too_many.json()
    mango.refresh_from_db()
    assert mango.stock == 12


def test_an_admin_changelist_saved_from_a_stale_page_never_puts_sold_units_back(shop, client):
    mango, buyer, address, staff = shop
    client.force_login(staff)
    put_in_cart(buyer, mango, 3)
    assert buyer.post("/api/orders/create/", {"address": address.pk}, format="json").status_code == 201
    # The page was loaded while stock was 10; its form still says so.
    form = {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(mango.pk), "form-0-price": "105.00", "form-0-stock": "10", "form-0-is_active": "on",
        "_save": "Save",
    }  # fmt: skip
    assert client.post("/admin/products/product/", form).status_code == 302
    mango.refresh_from_db()
    assert (mango.stock, str(mango.price)) == (7, "105.00")


def test_an_admin_stock_adjustment_is_relative(shop, client):
    mango, buyer, address, staff = shop
    client.force_login(staff)
    page = client.get(f"/admin/products/product/{mango.pk}/change/")
    assert page.status_code == 200
    form = {field: page.context["adminform"].form.initial.get(field) for field in ("name", "slug", "unit")}
    form |= {"category": mango.category_id, "price": "99.00", "stock_adjustment": "4", "is_active": "on"}
    put_in_cart(buyer, mango, 3)
    assert buyer.post("/api/orders/create/", {"address": address.pk}, format="json").status_code == 201
    assert client.post(f"/admin/products/product/{mango.pk}/change/", form).status_code == 302
    mango.refresh_from_db()
    assert mango.stock == 10 - 3 + 4


def test_a_customer_cancel_racing_a_staff_confirm_leaves_the_order_confirmed(shop):
    mango, buyer, address, staff = shop
    put_in_cart(buyer, mango, 2)
    order_id = buyer.post("/api/orders/create/", {"address": address.pk}, format="json").json()["id"]
    staff_api = client_for(staff)
    racers = Racers()
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_id)
        racers.start(lambda: staff_api.patch(f"/api/orders/{order_id}/status/", {"status": "confirmed"}, format="json"))
        racers.start(lambda: buyer.post(f"/api/orders/{order_id}/cancel/"))
    confirmed, cancelled = racers.finish()
    assert confirmed.status_code == 200
    assert cancelled.status_code == 400
    assert "pending" in cancelled.json()["status"][0]
    assert Order.objects.get(pk=order_id).status == Order.Status.CONFIRMED
    mango.refresh_from_db()
    assert mango.stock == 8


def test_two_registrations_with_one_email_make_one_account_and_answer_alike():
    email = f"twin-{uuid.uuid4().hex[:6]}@example.in"
    body = {"email": email, "password": "a-long-test-password-42"}
    racers = Racers()
    with pytest.raises(Rollback), transaction.atomic():
        # An uncommitted row with the same email: both requests pass the "is it taken?"
        # check and then queue on its unique index entry.
        User.objects.create_user(email=email, password="x")
        racers.start(lambda: APIClient().post("/api/auth/register/", body, format="json"))
        racers.start(lambda: APIClient().post("/api/auth/register/", body, format="json"))
        raise Rollback
    responses = racers.finish()
    assert [response.status_code for response in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert User.objects.filter(email=email).count() == 1


def test_two_first_addresses_at_once_both_saved_with_exactly_one_default():
    user = make_user("mover@example.in")
    client = client_for(user)
    body = {"line1": "1 Lake Road", "city": "Pune", "state": "Maharashtra", "pin_code": "411001"}
    racers = Racers()
    with pytest.raises(Rollback), transaction.atomic():
        make_address(user, is_default=True)  # uncommitted: neither request sees an address yet
        racers.start(lambda: client.post("/api/auth/me/addresses/", body, format="json"))
        racers.start(lambda: client.post("/api/auth/me/addresses/", body, format="json"))
        raise Rollback
    assert [response.status_code for response in racers.finish()] == [201, 201]
    assert sorted(Address.objects.filter(user=user).values_list("is_default", flat=True)) == [False, True]


def test_a_retried_checkout_with_the_same_idempotency_key_returns_the_same_order(shop):
    mango, buyer, address, _ = shop
    put_in_cart(buyer, mango, 2)
    key = str(uuid.uuid4())
    first = buyer.post("/api/orders/create/", {"address": address.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    retry = buyer.post("/api/orders/create/", {"address": address.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    mango.refresh_from_db()
    assert mango.stock == 8


def test_two_concurrent_checkouts_with_one_key_place_one_order(shop):
    mango, buyer, address, _ = shop
    put_in_cart(buyer, mango, 2)
    key = str(uuid.uuid4())
    cart = Cart.objects.get(user__email="buyer@example.in")
    racers = Racers()
    with transaction.atomic():
        Cart.objects.select_for_update().get(pk=cart.pk)
        for _ in range(2):
            racers.start(
                lambda: buyer.post(
                    "/api/orders/create/", {"address": address.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
                )
            )
    first, second = racers.finish()
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 101, "not ascii ✓", "has space"])
def test_a_malformed_idempotency_key_is_a_400(shop, key):
    mango, buyer, address, _ = shop
    put_in_cart(buyer, mango, 1)
    response = buyer.post("/api/orders/create/", {"address": address.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Order.objects.count() == 0
