import pytest

from cart.models import CartItem
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_cart_needs_authentication(api):
    assert api.get("/api/cart/").status_code == 401
    assert api.post("/api/cart/add/", {"product": 1, "quantity": 1}, format="json").status_code == 401


def test_a_new_user_has_an_empty_cart(customer_api):
    cart = customer_api.get("/api/cart/").json()
    assert cart["items"] == []
    assert cart["subtotal"] == "0.00"
    assert cart["item_count"] == 0


def test_add_computes_line_totals_and_subtotal_on_the_server(customer_api, onion, tomato):
    assert customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 2}, format="json").status_code == 201
    cart = customer_api.post("/api/cart/add/", {"product": tomato.pk, "quantity": 3}, format="json").json()
    assert [(i["product"]["name"], i["quantity"], i["line_total"]) for i in cart["items"]] == [
        ("Onion", 2, "76.00"),
        ("Tomato", 3, "97.50"),
    ]
    assert cart["subtotal"] == "173.50"
    assert cart["item_count"] == 5


def test_adding_the_same_product_again_increases_its_quantity(customer_api, onion):
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 2}, format="json")
    cart = customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 3}, format="json").json()
    assert len(cart["items"]) == 1
    assert cart["items"][0]["quantity"] == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"product": 999999, "quantity": 1}, "product"),
        ({"product": "onion", "quantity": 1}, "product"),
        ({"quantity": 1}, "product"),
        ({"product": "ONION_ID", "quantity": 0}, "quantity"),
        ({"product": "ONION_ID", "quantity": -3}, "quantity"),
        ({"product": "ONION_ID", "quantity": 11}, "quantity"),
    ],
)
def test_add_rejects_bad_input_with_field_messages(customer_api, onion, payload, field):
    payload = {key: onion.pk if value == "ONION_ID" else value for key, value in payload.items()}
    response = customer_api.post("/api/cart/add/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not CartItem.objects.exists()


def test_add_counts_what_is_already_in_the_cart_against_stock(customer_api, onion):
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 8}, format="json")
    response = customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 3}, format="json")
    assert response.status_code == 400
    assert "Only 10 of Onion in stock" in response.json()["quantity"][0]


def test_inactive_products_cannot_be_added(customer_api, onion):
    onion.is_active = False
    onion.save()
    response = customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 1}, format="json")
    assert response.status_code == 400


def test_malformed_json_is_400(customer_api):
    response = customer_api.generic("POST", "/api/cart/add/", b'{"product": 1,', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_change_quantity_and_remove_an_item(customer_api, onion, tomato):
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 1}, format="json")
    cart = customer_api.post("/api/cart/add/", {"product": tomato.pk, "quantity": 1}, format="json").json()
    onion_item = cart["items"][0]["id"]
    changed = customer_api.patch(f"/api/cart/items/{onion_item}/", {"quantity": 4}, format="json").json()
    assert changed["items"][0]["quantity"] == 4
    assert changed["subtotal"] == "184.50"
    too_many = customer_api.patch(f"/api/cart/items/{onion_item}/", {"quantity": 11}, format="json")
    assert too_many.status_code == 400
    assert customer_api.patch(f"/api/cart/items/{onion_item}/", {"quantity": 0}, format="json").status_code == 400
    removed = customer_api.delete(f"/api/cart/items/{onion_item}/").json()
    assert [i["product"]["name"] for i in removed["items"]] == ["Tomato"]


def test_clear_the_cart(customer_api, onion):
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 1}, format="json")
    assert customer_api.delete("/api/cart/").json()["items"] == []


def test_another_users_cart_item_is_404_and_unchanged(customer, other_customer, onion):
    client_for(other_customer).post("/api/cart/add/", {"product": onion.pk, "quantity": 2}, format="json")
    their_item = CartItem.objects.get(cart__user=other_customer)
    mine = client_for(customer)
    assert mine.patch(f"/api/cart/items/{their_item.pk}/", {"quantity": 1}, format="json").status_code == 404
    assert mine.delete(f"/api/cart/items/{their_item.pk}/").status_code == 404
    assert mine.get("/api/cart/").json()["items"] == []
    their_item.refresh_from_db()
    assert their_item.quantity == 2
