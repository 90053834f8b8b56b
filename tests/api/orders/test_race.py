"""Two customers race for the last unit: real concurrent transactions on PostgreSQL.

The test holds the product's row lock until both checkouts are inside their
transactions and waiting on it, so the race really happens on every run.
"""

import threading

import pytest
from django.db import connection, transaction

from orders.models import Order
from products.models import Category, Product
from tests.api.concurrency import wait_for_lock_waiters
from tests.api.conftest import client_for, make_address, make_user


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_concurrent_orders_gets_the_last_unit():
    category = Category.objects.create(name="Fruits", slug="fruits")
    mango = Product.objects.create(
        category=category, name="Mango", slug="mango", price="899.00", unit="1 dozen", stock=1
    )
    buyers = []
    for email in ("first@example.in", "second@example.in"):
        user = make_user(email)
        client = client_for(user)
        assert client.post("/api/cart/add/", {"product": mango.pk, "quantity": 1}, format="json").status_code == 201
        buyers.append((client, make_address(user, is_default=True)))

    start = threading.Barrier(len(buyers))
    statuses = []

    def buy(client, address):
        try:
            start.wait()
            statuses.append(client.post("/api/orders/create/", {"address": address.pk}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=buyer) for buyer in buyers]
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=mango.pk)
        for thread in threads:
            thread.start()
        assert wait_for_lock_waiters(2), "the two checkouts never queued on the product's lock"
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [201, 400]
    mango.refresh_from_db()
    assert mango.stock == 0
    assert Order.objects.count() == 1
