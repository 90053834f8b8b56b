from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.send_outbox_email")
def send_outbox_email(email_id: int) -> str:
    """One attempt; after a failure the row's next attempt is due after its backoff,
    and the sweep queues it then (no long countdowns parked in the broker)."""
    return services.email_send(email_id=email_id)


@shared_task(name="notifications.tasks.outbox_sweep")
def outbox_sweep() -> int:
    """Queues every pending row that is due: the broker was down at commit, a worker died."""
    due = services.emails_due()
    for email_id, priority in due:
        services.email_dispatch(email_id=email_id, priority=priority)
    return len(due)


@shared_task(name="notifications.tasks.outbox_purge_sent")
def outbox_purge_sent() -> int:
    """Deletes sent emails past OUTBOX_RETENTION_DAYS: addresses and order details kept no longer than needed."""
    return services.emails_purge_sent()
