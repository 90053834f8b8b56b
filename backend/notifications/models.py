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

    class Priority(models.IntegerChoices):
        # The broker's priority (Redis: 0 is served first): account emails a person is
        # waiting for never queue behind a burst of order notifications.
        ACCOUNT = 0, "Account (password reset, verification)"
        NOTICE = 6, "Notice (orders, tickets)"

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # For an email carrying a secret (a reset or verification link): the text staff may
    # see, and the one kept once it is sent or has failed for good. Empty: nothing secret.
    redacted_body = models.TextField(blank=True, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NOTICE)
    message_id = models.CharField(max_length=120, unique=True, default=new_message_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["to", "created_at"], name="outbox_recipient_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to} ({self.status})"

    @property
    def visible_body(self) -> str:
        """The body as staff may read it: without the secret, if it carries one."""
        return self.redacted_body or self.body
