"""The outbox: every email the shop sends goes through here.

``email_enqueue`` writes the row inside the caller's transaction; after the
commit a task sends it. If the broker is down at that moment, nothing is lost:
the periodic sweep finds rows still pending and queues them again. Sending takes
the row's lock, skips rows already sent, and marks the row sent in the same
transaction, so a row marked sent is never sent again; a worker that dies between
the SMTP hand-off and that commit means one repeat, with the same Message-ID.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import OutboxEmail

logger = logging.getLogger("desideliver.notifications")

SWEEP_GRACE = timedelta(seconds=30)  # a row younger than this is still on its way from on_commit


def email_enqueue(*, to: str, subject: str, body: str) -> OutboxEmail:
    email = OutboxEmail.objects.create(to=to, subject=subject, body=body)
    transaction.on_commit(lambda: email_dispatch(email_id=email.pk))
    return email


def email_dispatch(*, email_id: int) -> None:
    """Queues the send task; a broker outage is logged, and the sweep retries later."""
    from .tasks import send_outbox_email

    try:
        send_outbox_email.apply_async(args=[email_id], retry=False)
    except Exception as exc:  # kombu raises several kinds; the row waits for the sweep
        logger.warning("could not queue outbox email %s (the sweep will): %s", email_id, exc)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def email_send(*, email_id: int) -> str:
    """Sends one pending row. Returns its status afterwards: sent, failed, or pending (retry later)."""
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if email is None:
            return "busy"  # another worker holds it
        if email.status != OutboxEmail.Status.PENDING:
            return email.status
        if email.next_attempt_at > timezone.now():
            return "pending"  # backing off after a failure; the sweep queues it when due
        message = EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers={"Message-ID": email.message_id},
        )
        email.attempts += 1
        try:
            message.send()
        except Exception as exc:  # SMTP refused, timed out, went away...
            email.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                email.status = OutboxEmail.Status.FAILED
                logger.error("outbox email %s failed for good: %s", email.pk, email.last_error)
            else:
                email.next_attempt_at = timezone.now() + backoff(email.attempts)
                logger.warning("outbox email %s attempt %s failed: %s", email.pk, email.attempts, email.last_error)
        else:
            email.status = OutboxEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
        return email.status


def emails_due() -> list[int]:
    """Pending rows whose next attempt is due and that are not fresh from a commit."""
    now = timezone.now()
    due = OutboxEmail.objects.filter(
        status=OutboxEmail.Status.PENDING, next_attempt_at__lte=now, created_at__lte=now - SWEEP_GRACE
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])


def email_send_again(*, email: OutboxEmail) -> None:
    """Staff's "send again" on a failed row: pending again, queued now."""
    with transaction.atomic():
        OutboxEmail.objects.filter(pk=email.pk).update(
            status=OutboxEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        transaction.on_commit(lambda: email_dispatch(email_id=email.pk))
