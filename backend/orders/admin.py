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
    actions = ["mark_confirmed", "mark_packed", "mark_out_for_delivery", "mark_delivered", "mark_cancelled"]

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
            self.message_user(
                request, f"{refused} order(s) cannot become {status}; left as they were.", messages.WARNING
            )

    @admin.action(description="Mark selected orders confirmed")
    def mark_confirmed(self, request, queryset):
        self._advance(request, queryset, Order.Status.CONFIRMED)

    @admin.action(description="Mark selected orders packed")
    def mark_packed(self, request, queryset):
        self._advance(request, queryset, Order.Status.PACKED)

    @admin.action(description="Mark selected orders out for delivery")
    def mark_out_for_delivery(self, request, queryset):
        self._advance(request, queryset, Order.Status.OUT_FOR_DELIVERY)

    @admin.action(description="Mark selected orders delivered")
    def mark_delivered(self, request, queryset):
        self._advance(request, queryset, Order.Status.DELIVERED)

    @admin.action(description="Cancel selected orders (stock returns)")
    def mark_cancelled(self, request, queryset):
        self._advance(request, queryset, Order.Status.CANCELLED)
