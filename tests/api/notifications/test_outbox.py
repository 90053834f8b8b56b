"""Emails go through the outbox and a real Celery worker on the real Redis broker, to a
real SMTP server running in this process: nothing is lost, nothing marked sent goes twice."""

import email
import socket
import time
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from desideliver_backend.runtime.celery import WORKER_HEARTBEAT, SingleBeatScheduler, app
from notifications import services, tasks
from notifications.models import OutboxEmail
from orders.models import Order
from tests.api.conftest import client_for, make_address, make_product, make_user

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    settings.EMAIL_TIMEOUT = 3
    yield server
    if server.controller and server.controller._thread:
        server.stop()


@pytest.fixture
def worker():
    """A real worker thread consuming from the real broker (Redis), not eager mode."""
    app.conf.task_always_eager = False
    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def shopper():
    user = make_user(f"shopper-{uuid.uuid4().hex[:6]}@example.in")
    from products.models import Category

    category = Category.objects.create(name="Spices", slug=f"spices-{uuid.uuid4().hex[:6]}")
    product = make_product(category, f"Jeera {uuid.uuid4().hex[:6]}", "45.00", stock=20)
    client = client_for(user)
    address = make_address(user, is_default=True)
    return user, client, product, address


def place_order(shopper) -> dict:
    _, client, product, address = shopper
    assert client.post("/api/cart/add/", {"product": product.pk, "quantity": 1}, format="json").status_code == 201
    response = client.post("/api/orders/create/", {"address": address.pk}, format="json")
    assert response.status_code == 201
    return response.json()


def test_an_order_email_is_sent_by_the_worker_with_the_rows_message_id(smtp, worker, shopper):
    order = place_order(shopper)
    assert wait_until(lambda: smtp.inbox.messages), "no email arrived"
    (message,) = smtp.inbox.messages
    row = OutboxEmail.objects.get()
    assert message["Subject"] == f"DesiDeliver order #{order['id']} received"
    assert message["Message-ID"] == row.message_id
    assert "confirmed" not in message["Subject"]
    assert wait_until(lambda: OutboxEmail.objects.get().status == OutboxEmail.Status.SENT)


def test_while_smtp_is_down_the_email_waits_and_arrives_after(smtp, worker, shopper):
    smtp.stop()
    place_order(shopper)
    assert wait_until(lambda: OutboxEmail.objects.get().attempts == 1)
    row = OutboxEmail.objects.get()
    assert row.status == OutboxEmail.Status.PENDING
    assert row.last_error
    assert row.next_attempt_at > timezone.now()
    smtp.start()
    OutboxEmail.objects.update(next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(minutes=5))
    tasks.outbox_sweep.delay()
    assert wait_until(lambda: smtp.inbox.messages), "the swept email never arrived"
    assert OutboxEmail.objects.get().status == OutboxEmail.Status.SENT


def test_a_row_never_queued_is_found_by_the_sweep(smtp, worker):
    # As if the broker was down at commit: the row exists, no task was ever queued.
    row = OutboxEmail.objects.create(to="asha@example.in", subject="Hello", body="Namaste")
    OutboxEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    tasks.outbox_sweep.delay()
    assert wait_until(lambda: smtp.inbox.messages)
    assert smtp.inbox.messages[0]["Message-ID"] == row.message_id


def test_a_row_marked_sent_is_never_sent_again(smtp, worker):
    row = OutboxEmail.objects.create(to="asha@example.in", subject="Once", body="Only once")
    for _ in range(3):
        tasks.send_outbox_email.delay(row.pk)
    assert wait_until(lambda: OutboxEmail.objects.get().status == OutboxEmail.Status.SENT)
    time.sleep(1)  # give any duplicate the chance to (wrongly) go out
    assert len(smtp.inbox.messages) == 1


def test_after_the_last_attempt_the_row_is_failed_and_send_again_revives_it(smtp, settings, client, staff):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp.stop()
    row = OutboxEmail.objects.create(to="asha@example.in", subject="Stubborn", body="...")
    for _ in range(2):
        OutboxEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        tasks.send_outbox_email(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxEmail.Status.FAILED, 2)
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()

    smtp.start()
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post("/admin/notifications/outboxemail/", {"action": "send_again", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert wait_until(lambda: smtp.inbox.messages)  # eager here: sent within the request's commit
    row.refresh_from_db()
    assert row.status == OutboxEmail.Status.SENT


def test_an_account_email_overtakes_a_backlog_of_order_notices(smtp):
    app.control.purge()
    app.conf.task_always_eager = False  # queued to the real broker at commit, consumed after
    try:
        with transaction.atomic():
            for n in range(5):
                services.email_enqueue(to="asha@example.in", subject=f"Order notice {n}", body="...")
            services.email_enqueue(
                to="asha@example.in", subject="Reset", body="...", priority=OutboxEmail.Priority.ACCOUNT
            )
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            assert wait_until(lambda: len(smtp.inbox.messages) == 6)
    finally:
        app.conf.task_always_eager = True
    assert smtp.inbox.messages[0]["Subject"] == "Reset"


def test_the_worker_touches_its_heartbeat(worker):
    assert wait_until(lambda: WORKER_HEARTBEAT.exists() and time.time() - WORKER_HEARTBEAT.stat().st_mtime < 15)


def test_only_one_beat_schedules_at_a_time(tmp_path):
    class TestBeat(SingleBeatScheduler):
        LOCK_KEY = f"test:beat-leader:{uuid.uuid4().hex}"

    first = TestBeat(app=app, schedule_filename=str(tmp_path / "one"), lazy=True)
    second = TestBeat(app=app, schedule_filename=str(tmp_path / "two"), lazy=True)
    assert first._lead() is True
    assert second._lead() is False
    assert first._lead() is True  # the holder keeps it
    first._lock_client().delete(TestBeat.LOCK_KEY)  # the holder died and its lock expired
    assert second._lead() is True


def test_stale_pending_orders_are_cancelled_with_their_stock_returned(settings, shopper):
    settings.ORDER_PENDING_TIMEOUT_MINUTES = 60
    order = place_order(shopper)
    product = shopper[2]
    Order.objects.filter(pk=order["id"]).update(created_at=timezone.now() - timedelta(hours=2))
    assert tasks_cancel() == 1
    assert Order.objects.get(pk=order["id"]).status == Order.Status.CANCELLED
    product.refresh_from_db()
    assert product.stock == 20
    assert OutboxEmail.objects.filter(subject__contains="cancelled").count() == 1


def tasks_cancel() -> int:
    from orders.tasks import cancel_stale_pending_orders

    return cancel_stale_pending_orders()


def test_a_broker_connect_nobody_answers_fails_in_seconds_not_minutes():
    """Redis's address dropping packets (its container going away under a recreate, a
    partition): queueing the email gives up after the connect timeout, so neither the
    request behind it nor a stopping worker hangs on the kernel's SYN retries."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        # One connection fills the listen queue: the kernel drops every later SYN.
        with socket.create_connection(server.getsockname()):
            url = f"redis://127.0.0.1:{server.getsockname()[1]}/1"
            app.conf.task_always_eager = False  # really sent
            try:
                with app.connection_for_write(url) as connection:
                    started = time.monotonic()
                    with pytest.raises(OperationalError):
                        tasks.send_outbox_email.apply_async(args=[1], retry=False, connection=connection)
                    assert time.monotonic() - started < 10
            finally:
                app.conf.task_always_eager = True
