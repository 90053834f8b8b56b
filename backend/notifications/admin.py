from django.contrib import admin, messages

from . import services
from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "status", "priority", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "priority", "created_at"]
    search_fields = ["to", "subject", "message_id"]
    # The body is shown as visible_body: an email with a secret link shows its redacted text.
    fields = readonly_fields = [
        "to",
        "subject",
        "visible_body",
        "message_id",
        "status",
        "priority",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="body")
    def visible_body(self, email):
        return email.visible_body

    @admin.action(description="Send again (failed emails only)", permissions=["change"])
    def send_again(self, request, queryset):
        again = sum(services.email_send_again(email=email) for email in queryset)
        self.message_user(request, f"{again} failed email(s) queued again.", level=messages.SUCCESS)
        if again < len(queryset):
            skipped = len(queryset) - again
            self.message_user(
                request, f"{skipped} left alone: already sent, pending, or carrying a dropped link.", messages.WARNING
            )
