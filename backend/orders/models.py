from decimal import Decimal

from django.conf import settings
from django.db import models

from desideliver_backend.exceptions import DomainError


class InvalidTransition(DomainError):
    field = "status"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        PACKED = "packed", "Packed"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    # Every status change an order may make; anything else is refused.
    ALLOWED_TRANSITIONS = {
        Status.PENDING: {Status.CONFIRMED, Status.CANCELLED},
        Status.CONFIRMED: {Status.PACKED, Status.CANCELLED},
        Status.PACKED: {Status.OUT_FOR_DELIVERY, Status.CANCELLED},
        Status.OUT_FOR_DELIVERY: {Status.DELIVERED},
        Status.DELIVERED: set(),
        Status.CANCELLED: set(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    delivery_name = models.CharField(max_length=150)
    delivery_phone = models.CharField(max_length=16, blank=True)
    delivery_address = models.TextField(help_text="The address as it was when the order was placed.")
    note = models.CharField(max_length=300, blank=True)
    # The client's Idempotency-Key header: a retried checkout returns this order.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)
    # SHA-256 of the request that key came with: a reuse with another body is refused.
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_recent_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_not_negative"),
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="order_idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} ({self.get_status_display()})"

    def can_transition_to(self, new_status: str) -> bool:
        return new_status in self.ALLOWED_TRANSITIONS[self.Status(self.status)]

    def check_transition(self, new_status: str) -> None:
        if not self.can_transition_to(new_status):
            raise InvalidTransition(f"An order that is {self.get_status_display().lower()} cannot become {new_status}.")


class OrderItem(models.Model):
    """A line of an order, with the product's name and price as they were when ordered."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.SET_NULL, null=True, related_name="+")
    product_name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_quantity_at_least_one")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
