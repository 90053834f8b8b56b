from django.contrib import admin

from .models import Ticket, TicketMessage


class TicketMessageInline(admin.StackedInline):
    model = TicketMessage
    extra = 0
    readonly_fields = ["author", "created_at"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "user", "order", "status", "updated_at"]
    list_filter = ["status", "updated_at"]
    search_fields = ["subject", "user__email", "messages__body"]
    list_select_related = ["user", "order"]
    raw_id_fields = ["user", "order"]
    inlines = [TicketMessageInline]
