from django.contrib import admin, messages

from . import services
from .models import Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    readonly_fields = ["product", "product_name", "unit", "unit_price", "quantity"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "total", "delivery_name", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "user__email", "delivery_name", "delivery_phone"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = ["user", "status", "total", "created_at", "updated_at"]
    inlines = [OrderItemInline]

    def _advance(self, request, queryset, status):
        moved = refused = 0
        for order in queryset:
            if order.can_transition_to(status):
                services.order_set_status(order=order, status=status)
                moved += 1
            else:
                refused += 1
        self.message_user(request, f"{moved} order(s) now {status}.", messages.SUCCESS)
        if refused:
            warning = f"{refused} order(s) cannot become {status}; left as they were."
            self.message_user(request, warning, messages.WARNING)


def _status_action(status: Order.Status):
    """An admin action moving the selected orders to ``status`` where the transition table allows."""

    def action(modeladmin, request, queryset):
        modeladmin._advance(request, queryset, status)

    action.__name__ = f"mark_{status.value}"
    verb = "Cancel selected orders (stock returns)" if status == Order.Status.CANCELLED else None
    return admin.action(description=verb or f"Mark selected orders {status.label.lower()}", permissions=["change"])(
        action
    )


OrderAdmin.actions = [_status_action(status) for status in Order.Status if status != Order.Status.PENDING]
