"""A cart line changed while another request deletes it: a 404, never a 500."""

import pytest
from django.db import transaction

from cart.models import CartItem
from products.models import Category
from tests.api.concurrency import Racers
from tests.api.conftest import client_for, make_product, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_quantity_change_racing_the_lines_delete_is_a_404():
    category = Category.objects.create(name="Fruits", slug="fruits")
    mango = make_product(category, "Mango", "99.00", stock=10)
    client = client_for(make_user("racer@example.in"))
    assert client.post("/api/cart/add/", {"product": mango.pk, "quantity": 1}, format="json").status_code == 201
    item = CartItem.objects.get()
    racers = Racers()
    with transaction.atomic():
        CartItem.objects.select_for_update().get(pk=item.pk)  # both requests queue behind this lock: DELETE first
        racers.start(lambda: client.delete(f"/api/cart/items/{item.pk}/"))
        racers.start(lambda: client.patch(f"/api/cart/items/{item.pk}/", {"quantity": 3}, format="json"))
    deleted, changed = racers.finish()
    assert deleted.status_code == 200
    assert changed.status_code == 404, changed.content[:300]
    assert not CartItem.objects.exists()
