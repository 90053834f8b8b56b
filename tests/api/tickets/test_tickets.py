import pytest
from django.core import mail

from orders.models import Order
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def open_ticket(client, **extra):
    return client.post(
        "/api/tickets/", {"subject": "Late delivery", "message": "Where is my order?", **extra}, format="json"
    )


def test_customer_opens_a_ticket_with_its_first_message(customer_api):
    response = open_ticket(customer_api)
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["status"] == "open"
    assert [m["body"] for m in ticket["messages"]] == ["Where is my order?"]


def test_a_ticket_may_be_tied_to_the_users_own_order_only(customer, other_customer, customer_api):
    mine = Order.objects.create(user=customer, total="10.00", delivery_name="A", delivery_address="X")
    theirs = Order.objects.create(user=other_customer, total="10.00", delivery_name="B", delivery_address="Y")
    assert open_ticket(customer_api, order=mine.pk).json()["order"] == mine.pk
    refused = open_ticket(customer_api, order=theirs.pk)
    assert refused.status_code == 400
    assert "order" in refused.json()


def test_ticket_validation_errors_are_400(customer_api):
    response = customer_api.post("/api/tickets/", {"subject": ""}, format="json")
    assert response.status_code == 400
    assert {"subject", "message"} <= set(response.json())


def test_users_see_only_their_own_tickets_and_staff_see_all(customer_api, other_customer, staff_api):
    ticket_id = open_ticket(customer_api).json()["id"]
    other = client_for(other_customer)
    assert other.get("/api/tickets/").json()["results"] == []
    assert other.get(f"/api/tickets/{ticket_id}/").status_code == 404
    assert other.post(f"/api/tickets/{ticket_id}/messages/", {"body": "hi"}, format="json").status_code == 404
    assert [t["id"] for t in staff_api.get("/api/tickets/").json()["results"]] == [ticket_id]


def test_staff_reply_is_emailed_and_marks_the_ticket_answered(
    customer_api, customer, staff_api, django_capture_on_commit_callbacks
):
    ticket_id = open_ticket(customer_api).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        reply = staff_api.post(f"/api/tickets/{ticket_id}/messages/", {"body": "It is on its way."}, format="json")
    assert reply.status_code == 201
    assert reply.json()["from_staff"] is True
    assert customer_api.get(f"/api/tickets/{ticket_id}/").json()["status"] == "answered"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert "It is on its way." in mail.outbox[0].body

    follow_up = customer_api.post(f"/api/tickets/{ticket_id}/messages/", {"body": "Thanks!"}, format="json")
    assert follow_up.status_code == 201
    ticket = customer_api.get(f"/api/tickets/{ticket_id}/").json()
    assert ticket["status"] == "open"
    assert len(ticket["messages"]) == 3


def test_only_staff_close_and_a_closed_ticket_takes_no_messages(customer_api, staff_api):
    ticket_id = open_ticket(customer_api).json()["id"]
    assert customer_api.post(f"/api/tickets/{ticket_id}/close/").status_code == 403
    closed = staff_api.post(f"/api/tickets/{ticket_id}/close/")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    refused = customer_api.post(f"/api/tickets/{ticket_id}/messages/", {"body": "Hello?"}, format="json")
    assert refused.status_code == 400


def test_staff_filter_the_queue_by_status(customer_api, staff_api):
    first = open_ticket(customer_api).json()["id"]
    second = open_ticket(customer_api).json()["id"]
    staff_api.post(f"/api/tickets/{first}/close/")
    assert [t["id"] for t in staff_api.get("/api/tickets/?status=open").json()["results"]] == [second]


def test_customers_see_support_not_a_staff_members_email(customer_api, staff, staff_api):
    ticket_id = open_ticket(customer_api).json()["id"]
    assert (
        staff_api.post(f"/api/tickets/{ticket_id}/messages/", {"body": "On its way."}, format="json").status_code == 201
    )
    seen = customer_api.get(f"/api/tickets/{ticket_id}/")
    assert staff.email not in seen.content.decode()
    assert [m["author_name"] for m in seen.json()["messages"]] == ["Asha", "DesiDeliver support"]


def test_a_reply_added_in_the_admin_is_authored_by_the_admin_user(
    customer, customer_api, staff, client, django_capture_on_commit_callbacks
):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    ticket_id = open_ticket(customer_api).json()["id"]
    first = customer.tickets.get().messages.get()
    form = {
        "user": customer.pk, "order": "", "subject": "Late delivery", "status": "open",
        "messages-TOTAL_FORMS": "2", "messages-INITIAL_FORMS": "1", "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
        "messages-0-id": first.pk, "messages-0-ticket": ticket_id, "messages-0-body": first.body,
        "messages-1-id": "", "messages-1-ticket": ticket_id, "messages-1-body": "Your rider is two minutes away.",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/tickets/ticket/{ticket_id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    reply = customer.tickets.get().messages.last()
    assert (reply.author, reply.body) == (staff, "Your rider is two minutes away.")
    assert customer.tickets.get().status == "answered"
    assert len(mail.outbox) == 1
