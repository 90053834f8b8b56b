from rest_framework import serializers

from .models import Order, OrderItem


class OrderItemSerializer(serializers.ModelSerializer):
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = OrderItem
        fields = ["id", "product", "product_name", "unit", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "status_display",
            "total",
            "delivery_name",
            "delivery_phone",
            "delivery_address",
            "note",
            "items",
            "created_at",
            "updated_at",
        ]


class OrderCreateSerializer(serializers.Serializer):
    address = serializers.IntegerField(min_value=1, help_text="Id of one of your delivery addresses.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)
