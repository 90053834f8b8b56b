from django.db.models import QuerySet

from .models import Order


def orders_visible_to(user) -> QuerySet[Order]:
    """A customer's own orders; staff see every order."""
    orders = Order.objects.prefetch_related("items")
    return orders if user.is_staff else orders.filter(user=user)
