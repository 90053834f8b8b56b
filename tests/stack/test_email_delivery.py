"""Emails on the running production stack, sent by its worker to a real SMTP server
(aiosmtpd on this host, reached through the stack's network gateway): a worker
killed in the middle of sending, and an SMTP server down through several retries, lose nothing."""

import os
import signal
import time

import pytest

from tests.stack.smtp_sink import SmtpServer
from tests.stack.stack import gateway_of, place_order, wait_for

OUTAGE_SECONDS = 12


@pytest.fixture(scope="module")
def smtp(prod_stack):
    """The worker recreated to send over SMTP to this host; put back as it was afterwards."""
    server = SmtpServer()
    server.start()
    gateway = gateway_of(prod_stack.inspect("worker"))
    env = {
        **prod_stack.env,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": gateway,
        "EMAIL_PORT": str(server.port),
        "EMAIL_USE_TLS": "false",
        "SENDGRID_API_KEY": "SG.stack-suite-key-not-real-0000",
    }
    prod_stack.compose("up", "--detach", "--no-deps", "--force-recreate", "--wait", "worker", env=env)
    yield server
    server.stop()
    prod_stack.compose("up", "--detach", "--no-deps", "--force-recreate", "--wait", "worker")


def outbox_status(stack, order_id: int) -> str:
    return stack.psql(
        f"SELECT status FROM notifications_outboxemail WHERE subject LIKE '%order #{order_id} received'"
    ).strip()


def test_an_email_interrupted_by_a_killed_worker_arrives_after_the_restart(prod_stack, shopper, smtp):
    smtp.sink.delay = 5  # the worker is mid-conversation for five seconds
    try:
        status, order = place_order(prod_stack, shopper)
        assert status == 201
        subject = f"order #{order['id']} received"
        wait_for(lambda: smtp.sink.message_ids(subject), timeout=30, what="the send to begin")
        before = prod_stack.inspect("worker")["RestartCount"]
        # A crash, not `docker kill` (which Docker treats as a stop and does not restart).
        os.kill(prod_stack.inspect("worker")["State"]["Pid"], signal.SIGKILL)
        wait_for(lambda: prod_stack.inspect("worker")["RestartCount"] > before, timeout=30, what="the restart")
    finally:
        smtp.sink.delay = 0
    # The dead worker's claim on the row expires (OUTBOX_CLAIM_SECONDS) and the sweep queues it again.
    wait_for(lambda: outbox_status(prod_stack, order["id"]) == "sent", timeout=240, interval=2, what="sent")
    ids = smtp.sink.message_ids(subject)
    assert 1 <= len(ids) <= 2, ids
    assert len(set(ids)) == 1, "a repeat must carry the same Message-ID"


def test_emails_wait_out_an_smtp_outage_and_arrive_after_it(prod_stack, shopper, smtp):
    smtp.stop()
    down_since = time.monotonic()
    try:
        status, order = place_order(prod_stack, shopper)
        assert status == 201
        subject = f"order #{order['id']} received"
        wait_for(
            lambda: (
                prod_stack.psql(
                    f"SELECT attempts FROM notifications_outboxemail WHERE subject LIKE '%{subject}'"
                ).strip()
                not in ("", "0")
            ),
            timeout=60,
            what="a failed attempt",
        )
        assert outbox_status(prod_stack, order["id"]) == "pending"
        # The outage itself, not a wait for a condition: the SMTP server stays down for
        # several backoff periods (OUTBOX_BACKOFF_SECONDS), and every retry in it fails.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
        attempts = prod_stack.psql(f"SELECT attempts FROM notifications_outboxemail WHERE subject LIKE '%{subject}'")
        assert int(attempts) >= 2, "the email was not retried during the outage"
        assert outbox_status(prod_stack, order["id"]) == "pending"
    finally:
        smtp.start()
    # Retries back off (doubling from OUTBOX_BACKOFF_SECONDS); the sweep sends each when it is due.
    wait_for(lambda: outbox_status(prod_stack, order["id"]) == "sent", timeout=300, interval=2, what="sent")
    assert len(smtp.sink.message_ids(subject)) == 1
