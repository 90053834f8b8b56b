import pytest
from django.core import mail

from orders.models import Order
from tests.api.conftest import client_for, make_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled_cart(customer_api, onion, tomato):
    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 2}, format="json")
    customer_api.post("/api/cart/add/", {"product": tomato.pk, "quantity": 1}, format="json")
    return customer_api


def place(client, address, capture):
    with capture(execute=True):
        return client.post("/api/orders/create/", {"address": address.pk, "note": "Ring twice"}, format="json")


def test_create_order_snapshots_prices_takes_stock_empties_cart_and_emails(
    filled_cart, address, onion, tomato, customer, django_capture_on_commit_callbacks
):
    response = place(filled_cart, address, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "pending"
    assert order["total"] == "108.50"
    assert order["delivery_address"] == "12 MG Road, Bengaluru, Karnataka 560038"
    assert [(i["product_name"], i["unit_price"], i["quantity"]) for i in order["items"]] == [
        ("Onion", "38.00", 2),
        ("Tomato", "32.50", 1),
    ]
    onion.refresh_from_db()
    tomato.refresh_from_db()
    assert (onion.stock, tomato.stock) == (8, 4)
    assert filled_cart.get("/api/cart/").json()["items"] == []
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert f"order #{order['id']}" in mail.outbox[0].subject
    assert "Rs 108.50" in mail.outbox[0].body

    # A later price change does not touch the order.
    onion.price = "99.00"
    onion.save()
    assert filled_cart.get(f"/api/orders/{order['id']}/").json()["items"][0]["unit_price"] == "38.00"


def test_ordering_from_an_empty_cart_is_400(customer_api, address):
    response = customer_api.post("/api/orders/create/", {"address": address.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"cart": ["Your cart is empty."]}


def test_ordering_to_someone_elses_address_is_400(filled_cart, other_customer, onion):
    theirs = make_address(other_customer)
    response = filled_cart.post("/api/orders/create/", {"address": theirs.pk}, format="json")
    assert response.status_code == 400
    assert "address" in response.json()
    onion.refresh_from_db()
    assert onion.stock == 10


def test_order_fails_whole_when_stock_ran_out_after_adding_to_cart(filled_cart, address, onion, tomato):
    tomato.stock = 0
    tomato.save()
    response = filled_cart.post("/api/orders/create/", {"address": address.pk}, format="json")
    assert response.status_code == 400
    assert "Tomato" in response.json()["cart"][0]
    onion.refresh_from_db()
    assert onion.stock == 10
    assert len(filled_cart.get("/api/cart/").json()["items"]) == 2
    assert not Order.objects.exists()


def test_orders_list_and_detail_show_only_the_users_own(
    filled_cart, address, other_customer, django_capture_on_commit_callbacks
):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    assert [o["id"] for o in filled_cart.get("/api/orders/").json()["results"]] == [order_id]
    other = client_for(other_customer)
    assert other.get("/api/orders/").json()["results"] == []
    assert other.get(f"/api/orders/{order_id}/").status_code == 404
    assert other.post(f"/api/orders/{order_id}/cancel/").status_code == 404


def test_cancel_a_pending_order_returns_its_stock(filled_cart, address, onion, django_capture_on_commit_callbacks):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    response = filled_cart.post(f"/api/orders/{order_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    onion.refresh_from_db()
    assert onion.stock == 10
    again = filled_cart.post(f"/api/orders/{order_id}/cancel/")
    assert again.status_code == 400
    onion.refresh_from_db()
    assert onion.stock == 10


def test_customers_cannot_cancel_once_confirmed_nor_change_status(
    filled_cart, address, staff_api, django_capture_on_commit_callbacks
):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    assert staff_api.patch(f"/api/orders/{order_id}/status/", {"status": "confirmed"}, format="json").status_code == 200
    assert filled_cart.post(f"/api/orders/{order_id}/cancel/").status_code == 400
    assert (
        filled_cart.patch(f"/api/orders/{order_id}/status/", {"status": "delivered"}, format="json").status_code == 403
    )


def test_staff_status_changes_follow_the_transition_table(
    filled_cart, address, staff_api, django_capture_on_commit_callbacks
):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    url = f"/api/orders/{order_id}/status/"
    assert staff_api.patch(url, {"status": "delivered"}, format="json").status_code == 400
    for step in ["confirmed", "packed", "out_for_delivery", "delivered"]:
        response = staff_api.patch(url, {"status": step}, format="json")
        assert response.status_code == 200, (step, response.content)
    refused = staff_api.patch(url, {"status": "cancelled"}, format="json")
    assert refused.status_code == 400
    assert "status" in refused.json()
    assert staff_api.patch(url, {"status": "teleported"}, format="json").status_code == 400
    assert Order.objects.get(pk=order_id).status == "delivered"


def test_staff_see_every_order(filled_cart, address, staff_api, django_capture_on_commit_callbacks):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    assert staff_api.get(f"/api/orders/{order_id}/").status_code == 200


def test_transition_table_is_closed_for_final_states():
    for final in (Order.Status.DELIVERED, Order.Status.CANCELLED):
        assert Order.ALLOWED_TRANSITIONS[final] == set()
    assert set(Order.ALLOWED_TRANSITIONS) == set(Order.Status)


def test_admin_actions_follow_the_transition_table(admin_client, customer):
    order = Order.objects.create(user=customer, total="10.00", delivery_name="A", delivery_address="X")
    changelist = "/admin/orders/order/"
    confirmed = admin_client.post(changelist, {"action": "mark_confirmed", "_selected_action": [order.pk]}, follow=True)
    assert confirmed.status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed"
    refused = admin_client.post(changelist, {"action": "mark_delivered", "_selected_action": [order.pk]}, follow=True)
    assert "cannot become delivered" in refused.content.decode()
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_each_status_the_customer_cares_about_is_emailed(
    filled_cart, address, staff_api, customer, django_capture_on_commit_callbacks
):
    order_id = place(filled_cart, address, django_capture_on_commit_callbacks).json()["id"]
    assert mail.outbox[0].subject == f"DesiDeliver order #{order_id} received"
    for status in ["confirmed", "packed", "out_for_delivery", "delivered"]:
        with django_capture_on_commit_callbacks(execute=True):
            changed = staff_api.patch(f"/api/orders/{order_id}/status/", {"status": status}, format="json")
        assert changed.status_code == 200
    subjects = [message.subject for message in mail.outbox[1:]]
    assert subjects == [
        f"DesiDeliver order #{order_id}: confirmed",
        f"DesiDeliver order #{order_id}: out for delivery",
        f"DesiDeliver order #{order_id}: delivered",
    ]
    assert all(message.to == [customer.email] for message in mail.outbox)
    assert len({message.extra_headers["Message-ID"] for message in mail.outbox}) == 4
