from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from . import catalogue_cache
        from .models import Category, Product

        catalogue_cache.connect(Category, Product)
