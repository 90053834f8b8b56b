"""Catalogue writes. Stock only ever moves by relative amounts.

Orders take stock away inside their own transactions. An edit that wrote an
absolute stock figure read a moment (or a page load) earlier would put sold
units back, so existing products change stock by ``product_adjust_stock``
(``stock = stock + delta`` in one statement) and every other edit saves its
fields without touching stock.
"""

from django.db import transaction
from django.db.models import F

from desideliver_backend.exceptions import DomainError

from .models import Product


class StockError(DomainError):
    field = "stock_adjustment"


@transaction.atomic
def product_adjust_stock(*, product: Product, delta: int) -> Product:
    if delta:
        changed = Product.objects.filter(pk=product.pk, stock__gte=-delta).update(stock=F("stock") + delta)
        if not changed:
            current = Product.objects.filter(pk=product.pk).values_list("stock", flat=True).first()
            raise StockError(f"Only {current} in stock: cannot take away {-delta}.")
    product.stock = Product.objects.values_list("stock", flat=True).get(pk=product.pk)
    return product


@transaction.atomic
def product_update(*, product: Product, changes: dict, stock_adjustment: int = 0) -> Product:
    """Applies field changes (never stock itself) and then the stock adjustment."""
    changes = {field: value for field, value in changes.items() if field != "stock"}
    for field, value in changes.items():
        setattr(product, field, value)
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    return product_adjust_stock(product=product, delta=stock_adjustment)
