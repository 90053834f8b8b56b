import uuid

from django.db import models
from django.utils import timezone


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@outbox.desideliver.in>"


class OutboxEmail(models.Model):
    """An email written in the same transaction as the change that causes it, and
    sent by a worker after the commit. Its Message-ID never changes, so a repeated
    delivery (at least once) is recognisable; once marked sent it is never sent again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    message_id = models.CharField(max_length=120, unique=True, default=new_message_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to} ({self.status})"
