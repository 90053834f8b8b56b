"""The outbox under abuse: secret links not kept, sent rows not kept forever, unverified
addresses rate-limited, account emails ahead of notices, staff actions that need the
change permission, and verification links that work once."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from notifications import services
from notifications.models import OutboxEmail
from orders.models import Order
from tests.api.conftest import PASSWORD, make_address, make_product, make_user

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    user = make_user("viewer@desideliver.in", staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_a_reset_link_is_never_readable_in_the_shops_copy(api, client, customer, django_capture_on_commit_callbacks):
    viewer = staff_with("view_outboxemail")
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=False):  # written, not sent yet
        api.post("/api/auth/password/reset/", {"email": customer.email}, format="json")
    row = OutboxEmail.objects.get()
    token_part = re.search(r"token=(\S+)", row.body).group(1)
    page = client.get(f"/admin/notifications/outboxemail/{row.pk}/change/")
    assert page.status_code == 200
    assert token_part not in page.content.decode()
    services.email_send(email_id=row.pk)
    (sent,) = mail.outbox
    assert token_part in sent.body  # the owner got the link...
    row.refresh_from_db()
    assert row.status == OutboxEmail.Status.SENT
    assert "token=" not in row.body  # ...the shop kept none


def test_sent_rows_past_the_retention_period_are_deleted(settings):
    settings.OUTBOX_RETENTION_DAYS = 30
    old, recent, failed = (OutboxEmail.objects.create(to="a@example.in", subject=s, body="x") for s in "orf")
    OutboxEmail.objects.filter(pk=old.pk).update(status="sent", sent_at=timezone.now() - timedelta(days=31))
    OutboxEmail.objects.filter(pk=recent.pk).update(status="sent", sent_at=timezone.now() - timedelta(days=29))
    OutboxEmail.objects.filter(pk=failed.pk).update(status="failed")
    assert services.emails_purge_sent() == 1
    assert set(OutboxEmail.objects.values_list("subject", flat=True)) == {"r", "f"}
    assert "outbox-purge-sent" in settings.CELERY_BEAT_SCHEDULE


def test_send_again_never_resends_a_sent_email(client, staff):
    row = OutboxEmail.objects.create(to="a@example.in", subject="Once", body="x")
    OutboxEmail.objects.filter(pk=row.pk).update(status="sent", sent_at=timezone.now())
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    client.post("/admin/notifications/outboxemail/", {"action": "send_again", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == OutboxEmail.Status.SENT
    assert row.attempts == 0


def test_admin_actions_need_the_change_permission(client, customer, onion):
    make_address(customer)
    order = Order.objects.create(user=customer, total="10.00", delivery_name="A", delivery_address="x")
    failed = OutboxEmail.objects.create(to="a@example.in", subject="Failed", body="x", status="failed")
    client.force_login(staff_with("view_order", "view_outboxemail"))
    client.post("/admin/orders/order/", {"action": "mark_cancelled", "_selected_action": [order.pk]})
    client.post("/admin/notifications/outboxemail/", {"action": "send_again", "_selected_action": [failed.pk]})
    order.refresh_from_db()
    failed.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert failed.status == OutboxEmail.Status.FAILED


def test_token_tables_are_for_superusers_only_and_never_show_a_token(client, customer, staff):
    refresh = RefreshToken.for_user(customer)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_outstandingtoken", "view_blacklistedtoken"])
    )
    client.force_login(staff)
    assert client.get("/admin/token_blacklist/outstandingtoken/").status_code == 403
    staff.is_superuser = True
    staff.save()
    assert client.get("/admin/token_blacklist/outstandingtoken/").status_code == 200
    row = OutstandingToken.objects.get(jti=refresh["jti"])
    detail = client.get(f"/admin/token_blacklist/outstandingtoken/{row.pk}/change/")
    assert detail.status_code == 200
    assert str(refresh) not in detail.content.decode()


def test_admin_login_is_throttled_per_address_and_per_account(client, staff):
    def attempt(username, address):
        return client.post("/admin/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=address)

    statuses = [attempt(f"guess{n}@example.in", "203.0.113.40").status_code for n in range(11)]
    assert statuses[:10] == [200] * 10  # the form again, with an error
    locked = attempt("one-more@example.in", "203.0.113.40")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many sign-in attempts" in locked.content.decode()
    for n in range(10):
        attempt(staff.email, f"198.51.100.{n + 40}")
    assert attempt(staff.email.upper(), "198.51.100.99").status_code == 429
    good = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.40")
    assert good.status_code == 429, "the account stays locked for its window, even with the right password"


def test_an_unverified_address_gets_only_a_few_notices_an_hour(settings):
    settings.OUTBOX_UNVERIFIED_PER_HOUR = 3
    sent = [
        services.email_enqueue(to="stranger@example.in", subject=f"n{n}", body="spam?", recipient_verified=False)
        for n in range(5)
    ]
    assert [row is not None for row in sent] == [True, True, True, False, False]
    account = services.email_enqueue(
        to="stranger@example.in",
        subject="reset",
        body="x",
        priority=OutboxEmail.Priority.ACCOUNT,
        recipient_verified=False,
    )
    assert account is not None, "account emails are limited by their own endpoints' throttles"
    verified = [services.email_enqueue(to="owner@example.in", subject="v", body="x") for _ in range(5)]
    assert all(verified)


def test_orders_from_an_unverified_account_stop_emailing_after_the_limit(customer, customer_api, vegetables, settings):
    settings.OUTBOX_UNVERIFIED_PER_HOUR = 2
    settings.ORDER_MAX_PENDING = 10
    rice = make_product(vegetables, "Rice", "60.00", stock=100)
    address = make_address(customer)
    for _ in range(4):
        customer_api.post("/api/cart/add/", {"product": rice.pk, "quantity": 1}, format="json")
        assert customer_api.post("/api/orders/create/", {"address": address.pk}, format="json").status_code == 201
    assert OutboxEmail.objects.filter(to=customer.email).count() == 2
    customer.email_verified_at = timezone.now()
    customer.save()
    customer_api.post("/api/cart/add/", {"product": rice.pk, "quantity": 1}, format="json")
    assert customer_api.post("/api/orders/create/", {"address": address.pk}, format="json").status_code == 201
    assert OutboxEmail.objects.filter(to=customer.email).count() == 3


def test_email_verification_by_a_one_time_link(api, customer, customer_api, django_capture_on_commit_callbacks):
    assert customer_api.get("/api/auth/me/").json()["email_verified"] is False
    with django_capture_on_commit_callbacks(execute=True):
        asked = customer_api.post("/api/auth/email/verify/request/")
    assert asked.status_code == 202
    (message,) = mail.outbox
    assert message.to == [customer.email]
    uid, token = re.search(r"\?uid=([^&\s]+)&token=(\S+)", message.body).groups()
    assert "token=" not in OutboxEmail.objects.get().body
    done = api.post("/api/auth/email/verify/", {"uid": uid, "token": token}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["email_verified"] is True
    again = api.post("/api/auth/email/verify/", {"uid": uid, "token": token}, format="json")
    assert again.status_code == 400
    assert "token" in again.json()
    assert customer_api.post("/api/auth/email/verify/request/").json()["detail"].startswith("This address is already")


def test_a_forged_verification_link_is_a_400(api, customer):
    response = api.post("/api/auth/email/verify/", {"uid": "MQ", "token": "abc-123"}, format="json")
    assert response.status_code == 400
    assert "token" in response.json()
    assert make_user("other@example.in").email_verified is False
