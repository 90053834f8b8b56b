from django.db.models import QuerySet

from .models import Category, Product


def product_list(*, include_inactive: bool = False, category: str | None = None) -> QuerySet[Product]:
    products = Product.objects.select_related("category")
    if not include_inactive:
        products = products.filter(is_active=True, category__is_active=True)
    if category:
        # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
        if category.isascii() and category.isdecimal():
            products = products.filter(category_id=int(category))
        else:
            products = products.filter(category__slug=category)
    return products


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    categories = Category.objects.all()
    return categories if include_inactive else categories.filter(is_active=True)
