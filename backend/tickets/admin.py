from django.contrib import admin, messages

from . import services
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

    def save_formset(self, request, form, formset, change):
        """A message added here is a reply from the signed-in staff member, through the same
        service as the API (status becomes answered, the customer is emailed)."""
        if formset.model is not TicketMessage:
            return super().save_formset(request, form, formset, change)
        for message in formset.save(commit=False):
            if message.pk is not None:
                message.save()
                continue
            try:
                services.ticket_reply(ticket=form.instance, author=request.user, body=message.body)
            except services.TicketError as exc:
                self.message_user(request, f"Reply not added: {exc.message}", level=messages.ERROR)
        for message in formset.deleted_objects:
            message.delete()
