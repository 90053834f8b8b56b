"""What one customer can do to the shop's stock and mail: bounded lines, a bounded
number of pending orders, a throttle on placing and cancelling, and idempotency
keys that cannot be reused for another request. Staff are not limited."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail

from orders.models import Order
from orders.services import orders_cancel_stale_pending
from tests.api.conftest import client_for, make_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_stock(vegetables):
    from tests.api.conftest import make_product

    return make_product(vegetables, "Rice", "60.00", stock=500)


def add(client, product, quantity):
    response = client.post("/api/cart/add/", {"product": product.pk, "quantity": quantity}, format="json")
    assert response.status_code == 201, response.content


def order(client, address, **headers):
    return client.post("/api/orders/create/", {"address": address.pk}, format="json", **headers)


def test_one_order_line_holds_at_most_the_configured_units(customer, customer_api, big_stock, settings):
    add(customer_api, big_stock, settings.ORDER_MAX_UNITS_PER_LINE + 1)
    refused = order(customer_api, make_address(customer))
    assert refused.status_code == 400
    assert "cart" in refused.json()
    big_stock.refresh_from_db()
    assert big_stock.stock == 500


def test_a_customer_may_hold_only_a_few_pending_orders(customer, customer_api, big_stock, settings):
    address = make_address(customer)
    for _ in range(settings.ORDER_MAX_PENDING):
        add(customer_api, big_stock, 1)
        assert order(customer_api, address).status_code == 201
    add(customer_api, big_stock, 1)
    refused = order(customer_api, address)
    assert refused.status_code == 400
    assert "orders" in refused.json()
    assert Order.objects.filter(user=customer).count() == settings.ORDER_MAX_PENDING


def test_staff_are_not_limited(staff, staff_api, big_stock, settings):
    address = make_address(staff)
    for _ in range(settings.ORDER_MAX_PENDING + 1):
        add(staff_api, big_stock, settings.ORDER_MAX_UNITS_PER_LINE + 1)
        assert order(staff_api, address).status_code == 201


def test_a_create_and_cancel_loop_is_throttled_and_stops_sending_email(
    customer, customer_api, big_stock, django_capture_on_commit_callbacks
):
    address = make_address(customer)
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(8):
            add(customer_api, big_stock, 1)
            placed = order(customer_api, address)
            statuses.append(placed.status_code)
            if placed.status_code != 201:
                throttled = placed
                break
            statuses.append(customer_api.post(f"/api/orders/{placed.json()['id']}/cancel/").status_code)
    assert statuses[-1] == 429, statuses
    assert int(throttled["Retry-After"]) > 0
    assert len(mail.outbox) <= 10


def test_an_idempotency_key_reused_with_another_body_is_a_422(customer, customer_api, big_stock):
    address = make_address(customer)
    add(customer_api, big_stock, 1)
    key = str(uuid.uuid4())
    first = order(customer_api, address, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    other = customer_api.post(
        "/api/orders/create/", {"address": address.pk, "note": "ring twice"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 422, other.content
    assert "Idempotency-Key" in other.json()
    assert order(customer_api, address, HTTP_IDEMPOTENCY_KEY=key).json()["id"] == first.json()["id"]


def test_an_unconfirmed_order_gives_its_stock_back_within_the_hour(customer, customer_api, big_stock):
    add(customer_api, big_stock, 5)
    placed = order(customer_api, make_address(customer)).json()
    Order.objects.filter(pk=placed["id"]).update(
        created_at=Order.objects.get(pk=placed["id"]).created_at - timedelta(minutes=61)
    )
    assert orders_cancel_stale_pending() == 1
    big_stock.refresh_from_db()
    assert big_stock.stock == 500


def test_the_throttle_is_per_customer(customer, other_customer, big_stock):
    for user in (customer, other_customer):
        client = client_for(user)
        add(client, big_stock, 1)
        assert order(client, make_address(user)).status_code == 201
