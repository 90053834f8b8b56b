"""The outbox: every email the shop sends goes through here.

``email_enqueue`` writes the row inside the caller's transaction; after the
commit a task sends it. If the broker is down at that moment, nothing is lost:
the periodic sweep finds rows still pending and queues them again. Sending first
claims the row (only a pending, due row can be claimed, and a claim pushes its
next attempt two minutes out), then talks SMTP with no lock held, then marks the
row sent; a row marked sent is never sent again. A worker that dies between the
SMTP hand-off and that mark means one repeat after the claim expires, with the
same Message-ID.

Abuse limits (docs/ARCHITECTURE.md, "Abuse limits"): an address whose owner has not proved it
(``recipient_verified=False``) gets at most OUTBOX_UNVERIFIED_PER_HOUR notices an
hour, so the shop cannot be made to mail attacker-chosen text to a stranger; an
email carrying a secret link keeps only its redacted text once sent; sent rows are
deleted after OUTBOX_RETENTION_DAYS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import OutboxEmail

logger = logging.getLogger("desideliver.notifications")


def email_enqueue(
    *,
    to: str,
    subject: str,
    body: str,
    redacted_body: str = "",
    priority: int = OutboxEmail.Priority.NOTICE,
    recipient_verified: bool = True,
) -> OutboxEmail | None:
    """Writes the email in the caller's transaction; returns None when the limit for
    unverified addresses leaves it unsent (notices only; account emails always go)."""
    if not recipient_verified and priority != OutboxEmail.Priority.ACCOUNT:
        since = timezone.now() - timedelta(hours=1)
        if OutboxEmail.objects.filter(to=to, created_at__gte=since).count() >= settings.OUTBOX_UNVERIFIED_PER_HOUR:
            logger.info(
                "not emailing unverified address (limit of %s an hour): %s",
                settings.OUTBOX_UNVERIFIED_PER_HOUR,
                subject,
            )
            return None
    email = OutboxEmail.objects.create(
        to=to, subject=subject, body=body, redacted_body=redacted_body, priority=priority
    )
    transaction.on_commit(lambda: email_dispatch(email_id=email.pk, priority=email.priority))
    return email


def email_dispatch(*, email_id: int, priority: int = OutboxEmail.Priority.NOTICE) -> None:
    """Queues the send task; a broker outage is logged, and the sweep retries later."""
    from .tasks import send_outbox_email

    try:
        send_outbox_email.apply_async(args=[email_id], retry=False, priority=priority)
    except Exception as exc:  # kombu raises several kinds; the row waits for the sweep
        logger.warning("could not queue outbox email %s (the sweep will): %s", email_id, exc)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.OUTBOX_BACKOFF_SECONDS * 2 ** (attempts - 1), 3600))


def email_send(*, email_id: int) -> str:
    """One attempt at a pending, due row. Returns its status afterwards: sent, failed,
    or pending (to be retried later; also when another worker holds it)."""
    now = timezone.now()
    # Claim the row in a short transaction of its own: no database lock is held while
    # SMTP talks. A worker that dies mid-send leaves the claim to expire, and the sweep
    # sends the row again (at least once, with the same Message-ID).
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboxEmail.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if email is None:
            current = OutboxEmail.objects.filter(pk=email_id).values_list("status", flat=True).first()
            return current or "missing"
        email.attempts += 1
        # After the claim (OUTBOX_CLAIM_SECONDS) a row whose worker died is due again.
        email.next_attempt_at = now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
        email.save(update_fields=["attempts", "next_attempt_at"])
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Message-ID": email.message_id},
    )
    try:
        message.send()
    except Exception as exc:  # SMTP refused, timed out, went away...
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            OutboxEmail.objects.filter(pk=email.pk).update(
                status=OutboxEmail.Status.FAILED, last_error=error, **_without_secret(email)
            )
            logger.error("outbox email %s failed for good: %s", email.pk, error)
            return OutboxEmail.Status.FAILED
        retry_at = timezone.now() + backoff(email.attempts)
        OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=retry_at, last_error=error)
        logger.warning("outbox email %s attempt %s failed: %s", email.pk, email.attempts, error)
        return OutboxEmail.Status.PENDING
    sent = {"status": OutboxEmail.Status.SENT, "sent_at": timezone.now(), "last_error": "", **_without_secret(email)}
    OutboxEmail.objects.filter(pk=email.pk).update(**sent)
    return OutboxEmail.Status.SENT


def _without_secret(email: OutboxEmail) -> dict:
    """Once an email is sent (or never will be), its secret link has no reason to stay."""
    return {"body": email.redacted_body} if email.redacted_body else {}


def emails_due() -> list[tuple[int, int]]:
    """Pending rows whose next attempt is due and that are not fresh from a commit."""
    now = timezone.now()
    grace_cutoff = now - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    due = OutboxEmail.objects.filter(
        status=OutboxEmail.Status.PENDING, next_attempt_at__lte=now, created_at__lte=grace_cutoff
    )
    return list(due.order_by("next_attempt_at").values_list("pk", "priority")[:500])


def email_send_again(*, email: OutboxEmail) -> bool:
    """Staff's "send again" on a failed row: pending again, queued now. A row already sent,
    or one whose secret link was dropped, is left alone (returns False)."""
    with transaction.atomic():
        again = OutboxEmail.objects.filter(pk=email.pk, status=OutboxEmail.Status.FAILED, redacted_body="").update(
            status=OutboxEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if again:
            transaction.on_commit(lambda: email_dispatch(email_id=email.pk, priority=email.priority))
    return bool(again)


def emails_purge_sent() -> int:
    """Deletes sent rows older than OUTBOX_RETENTION_DAYS; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxEmail.objects.filter(status=OutboxEmail.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
