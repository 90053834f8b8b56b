from django.contrib import admin, messages

from . import services
from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["to", "subject", "message_id"]
    readonly_fields = [field.name for field in OutboxEmail._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        for email in queryset:
            services.email_send_again(email=email)
        self.message_user(request, f"{queryset.count()} email(s) queued again.", level=messages.SUCCESS)
