"""Cart rules: quantities are at least one and never exceed the product's stock."""

from django.db import transaction

from desideliver_backend.exceptions import DomainError
from products.models import Product

from .models import Cart, CartItem


class CartError(DomainError):
    pass


def cart_for_user(user) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_with_items(user) -> Cart:
    cart = cart_for_user(user)
    return Cart.objects.prefetch_related("items__product").get(pk=cart.pk)


def _available_product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, is_active=True, category__is_active=True).first()
    if product is None:
        raise CartError(f"Product {product_id} does not exist or is not available.", field="product")
    return product


def _check_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise CartError(f"Only {product.stock} of {product.name} in stock; you asked for {quantity}.", field="quantity")


@transaction.atomic
def cart_add(*, user, product_id: int, quantity: int) -> CartItem:
    """Adds ``quantity`` of a product, on top of what the cart already holds."""
    product = _available_product(product_id)
    cart = Cart.objects.select_for_update().get(pk=cart_for_user(user).pk)
    item = CartItem.objects.filter(cart=cart, product=product).first()
    new_quantity = quantity + (item.quantity if item else 0)
    _check_stock(product, new_quantity)
    if item is None:
        item = CartItem(cart=cart, product=product)
    item.quantity = new_quantity
    item.save()
    cart.save(update_fields=["updated_at"])
    return item


@transaction.atomic
def cart_item_set_quantity(*, user, item_id: int, quantity: int) -> CartItem:
    """Sets one line's quantity. The line is locked first, so a DELETE of it racing this
    change either happens before (CartItem.DoesNotExist: a 404) or waits for it."""
    item = CartItem.objects.select_for_update(of=("self",)).select_related("product").get(pk=item_id, cart__user=user)
    _check_stock(item.product, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_clear(*, cart: Cart) -> None:
    cart.items.all().delete()
