"""Reads of the outbox."""

from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from .models import OutboxEmail


@dataclass(frozen=True)
class OutboxBacklog:
    by_status: dict[str, int]  # every status, 0 included
    oldest_pending_seconds: float  # 0 when nothing is pending


def outbox_backlog() -> OutboxBacklog:
    counts = dict(OutboxEmail.objects.order_by().values_list("status").annotate(Count("id")))
    oldest = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING).aggregate(Min("created_at"))
    oldest_at = oldest["created_at__min"]
    return OutboxBacklog(
        by_status={status: counts.get(status, 0) for status in OutboxEmail.Status.values},
        oldest_pending_seconds=(timezone.now() - oldest_at).total_seconds() if oldest_at else 0.0,
    )
