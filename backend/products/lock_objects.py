"""Row locks on products, taken the same way by every writer.

Placing an order and returning an order's stock each lock several products. Taken in
primary-key order, two such transactions wait for each other instead of deadlocking;
every writer that locks more than one product goes through here.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Product


def products_locked_for_stock(product_ids: Iterable[int]) -> QuerySet[Product]:
    """The products, locked FOR UPDATE in primary-key order (evaluate inside the transaction)."""
    return Product.objects.select_for_update().filter(pk__in=list(product_ids)).order_by("pk")
