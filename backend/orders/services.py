"""Placing, cancelling and advancing orders.

Stock is decremented inside the order's transaction with the product rows locked
(in id order, so two orders never deadlock); the database's non-negative stock
constraint is the last line of defence. Emails go to the outbox in the same
transaction, so a rolled-back order sends nothing and a committed one is never
without its email.
"""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from cart.models import Cart
from desideliver_backend import metrics
from desideliver_backend.exceptions import DomainError
from notifications.services import email_enqueue
from products.lock_objects import products_locked_for_stock
from products.models import Product
from users.models import Address

from .models import Order, OrderItem

# Status changes the customer hears about by email.
STATUS_EMAILS = {
    Order.Status.CONFIRMED: "is confirmed: we are packing it",
    Order.Status.OUT_FOR_DELIVERY: "is out for delivery",
    Order.Status.DELIVERED: "was delivered. Enjoy",
    Order.Status.CANCELLED: "was cancelled; any stock it held is back on the shelf",
}


class OrderError(DomainError):
    pass


class IdempotencyKeyReused(DomainError):
    """The key names an order placed with a different request: a client bug, not a retry."""

    field = "Idempotency-Key"
    status_code = 422


def _request_fingerprint(*, address_id: int, note: str) -> str:
    return hashlib.sha256(json.dumps({"address": address_id, "note": note}, sort_keys=True).encode()).hexdigest()


def _check_customer_limits(*, user, lines: list[tuple[int, int]]) -> None:
    """What one customer may hold at once (staff are not limited): units per line
    (ORDER_MAX_UNITS_PER_LINE) and orders still pending (ORDER_MAX_PENDING), so no
    account, or handful of free accounts, can lock up a product's whole stock."""
    if user.is_staff:
        return
    for _, quantity in lines:
        if quantity > settings.ORDER_MAX_UNITS_PER_LINE:
            raise OrderError(
                f"At most {settings.ORDER_MAX_UNITS_PER_LINE} of one product per order; "
                f"you have {quantity} in your cart.",
                field="cart",
            )
    pending = Order.objects.filter(user=user, status=Order.Status.PENDING).count()
    if pending >= settings.ORDER_MAX_PENDING:
        raise OrderError(
            f"You already have {pending} orders waiting to be confirmed; wait for one, or cancel one, first.",
            field="orders",
        )


def order_create(*, user, address_id: int, note: str = "", idempotency_key: str | None = None) -> tuple[Order, bool]:
    """Turns the cart into an order; returns it and whether it was created now.

    With an idempotency key, a retry (after a timeout, say) returns the order the
    first request placed instead of a second order or "your cart is empty"; the same
    key sent with a different address or note is refused (422), never answered with
    the first order.
    """
    fingerprint = _request_fingerprint(address_id=address_id, note=note)
    with transaction.atomic():
        cart, _ = Cart.objects.get_or_create(user=user)
        # Locking the cart makes a double-submitted checkout place one order, not two,
        # orders the check for an earlier order with the same key after that order's commit,
        # and serialises the pending-order count of _check_customer_limits.
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        if idempotency_key:
            placed = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if placed is not None:
                if placed.request_fingerprint and placed.request_fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        "This Idempotency-Key was used for a different request; send a new key for a new checkout."
                    )
                return placed, False
        address = Address.objects.filter(pk=address_id, user=user).first()
        if address is None:
            raise OrderError(f"Address {address_id} is not one of your addresses.", field="address")
        lines = list(cart.items.order_by("product_id").values_list("product_id", "quantity"))
        if not lines:
            raise OrderError("Your cart is empty.", field="cart")
        _check_customer_limits(user=user, lines=lines)
        products = products_locked_for_stock(pid for pid, _ in lines).select_related("category")
        products = {product.pk: product for product in products}

        order_items = []
        for product_id, quantity in lines:
            product = products[product_id]
            if not (product.is_active and product.category.is_active):
                raise OrderError(f"{product.name} is no longer available; remove it from your cart.", field="cart")
            if product.stock < quantity:
                raise OrderError(
                    f"Only {product.stock} of {product.name} left; you have {quantity} in your cart.", field="cart"
                )
            order_items.append(
                OrderItem(
                    product=product,
                    product_name=product.name,
                    unit=product.unit,
                    unit_price=product.price,
                    quantity=quantity,
                )
            )
        for item in order_items:
            Product.objects.filter(pk=item.product_id).update(stock=F("stock") - item.quantity)

        order = Order.objects.create(
            user=user,
            total=sum((item.line_total for item in order_items), Decimal("0.00")),
            delivery_name=user.full_name or user.email,
            delivery_phone=address.phone or user.phone,
            delivery_address=address.one_line(),
            note=note,
            idempotency_key=idempotency_key or None,
            request_fingerprint=fingerprint if idempotency_key else "",
        )
        for item in order_items:
            item.order = order
        OrderItem.objects.bulk_create(order_items)
        cart.items.all().delete()
        email_enqueue(
            to=user.email,
            recipient_verified=user.email_verified,
            subject=f"DesiDeliver order #{order.pk} received",
            body=render_to_string("orders/received_email.txt", {"order": order, "items": order_items}),
        )
        transaction.on_commit(metrics.ORDERS_CREATED.inc)
    return order, True


def _return_stock(order: Order) -> None:
    lines = list(order.items.exclude(product=None).order_by("product_id").values_list("product_id", "quantity"))
    list(products_locked_for_stock(pid for pid, _ in lines).values("pk"))
    for product_id, quantity in lines:
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)


def order_set_status(*, order: Order, status: str, only_from: set[str] | None = None) -> Order:
    """Moves an order along the allowed-transitions table; cancelling returns its stock.

    The status is checked under the order's row lock, so of two racing changes the
    second sees the first one's result. ``only_from`` narrows the statuses the order
    may be leaving (a customer may cancel only a pending order).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)
        if only_from is not None and order.status not in only_from:
            raise OrderError("Only a pending order can be cancelled; contact support for help.", field="status")
        order.check_transition(status)
        if status == Order.Status.CANCELLED:
            _return_stock(order)
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        if status in STATUS_EMAILS:
            email_enqueue(
                to=order.user.email,
                recipient_verified=order.user.email_verified,
                subject=f"DesiDeliver order #{order.pk}: {order.get_status_display().lower()}",
                body=f"Namaste {order.delivery_name},\n\n"
                f"Your order #{order.pk} {STATUS_EMAILS[status]}.\n\nDesiDeliver\n",
            )
    return order


def order_cancel_by_customer(*, order: Order) -> Order:
    return order_set_status(order=order, status=Order.Status.CANCELLED, only_from={Order.Status.PENDING})


def orders_cancel_stale_pending() -> int:
    """Cancels orders left pending past ORDER_PENDING_TIMEOUT_MINUTES, through the normal
    cancellation (stock returned, customer emailed). An order confirmed meanwhile is left alone."""
    cutoff = timezone.now() - timedelta(minutes=settings.ORDER_PENDING_TIMEOUT_MINUTES)
    cancelled = 0
    for order in Order.objects.filter(status=Order.Status.PENDING, created_at__lt=cutoff).order_by("pk")[:200]:
        try:
            order_set_status(order=order, status=Order.Status.CANCELLED, only_from={Order.Status.PENDING})
        except OrderError:
            continue
        cancelled += 1
    return cancelled
