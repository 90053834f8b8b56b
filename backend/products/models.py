import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from .catalogue_cache import CatalogueQuerySet
from .validators import product_image_path, validate_image_file


class CatalogueVersion(models.Model):
    """One row whose value changes at the commit of every write to products or
    categories (database triggers, see migration 0002): what the catalogue cache checks."""

    value = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.value)


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first.")

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    unit = models.CharField(max_length=30, help_text="What one unit is, e.g. 1 kg, 500 g, 1 L, 6 pcs.")
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Inactive products are hidden and cannot be ordered.")
    image = models.ImageField(upload_to=product_image_path, blank=True, validators=[validate_image_file])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["is_active", "category", "name"], name="product_listing_idx"),
            models.Index(fields=["is_active", "price"], name="product_price_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"
