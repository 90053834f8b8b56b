from django import forms
from django.contrib import admin, messages

from . import services
from .models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ProductAdminForm(forms.ModelForm):
    stock_adjustment = forms.IntegerField(
        required=False,
        initial=0,
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Units to add (or, negative, take away). Orders placed while this page was open are kept.",
    )

    class Meta:
        model = Product
        fields = ["category", "name", "slug", "description", "price", "unit", "stock", "is_active", "image"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Stock is shown, never written back: a page loaded before a sale would undo it.
    Staff change it by a relative adjustment (see products.services)."""

    form = ProductAdminForm
    list_display = ["name", "category", "price", "unit", "stock", "is_active", "updated_at"]
    list_editable = ["price", "is_active"]
    list_filter = ["is_active", "category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_readonly_fields(self, request, obj=None):
        return ["stock"] if obj is not None else []

    def get_fields(self, request, obj=None):
        fields = [field for field in super().get_fields(request, obj) if field != "stock_adjustment"]
        return [*fields, "stock_adjustment"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field != "stock_adjustment"}
        try:
            services.product_update(
                product=obj, changes=changes, stock_adjustment=form.cleaned_data.get("stock_adjustment") or 0
            )
        except services.StockError as exc:
            self.message_user(request, f"Stock not changed: {exc.message}", level=messages.ERROR)
