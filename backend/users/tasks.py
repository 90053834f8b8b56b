from celery import shared_task
from django.core.management import call_command


@shared_task(name="users.tasks.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Drops refresh tokens (and their blacklist entries) that have expired anyway."""
    call_command("flushexpiredtokens")
