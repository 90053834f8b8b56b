from django.db.models import QuerySet

from .models import Category, Product


def product_list(*, include_inactive: bool = False, category: str | None = None) -> QuerySet[Product]:
    products = Product.objects.select_related("category")
    if not include_inactive:
        products = products.filter(is_active=True, category__is_active=True)
    if category:
        lookup = {"category_id": int(category)} if category.isdigit() else {"category__slug": category}
        products = products.filter(**lookup)
    return products


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    categories = Category.objects.all()
    return categories if include_inactive else categories.filter(is_active=True)
