from rest_framework import serializers

from .models import Category, Product


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "is_active", "position"]


class ProductSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    in_stock = serializers.SerializerMethodField()
    stock_adjustment = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="On an existing product: units to add (or, negative, take away). "
        "Stock is never set outright once a product exists, so a sale made meanwhile is never undone.",
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "category",
            "category_name",
            "price",
            "unit",
            "stock",
            "in_stock",
            "stock_adjustment",
            "is_active",
            "image",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None and "stock" in attrs and attrs["stock"] != self.instance.stock:
            raise serializers.ValidationError(
                {"stock": ["Change an existing product's stock with stock_adjustment (units to add or take away)."]}
            )
        if self.instance is None and "stock_adjustment" in attrs:
            raise serializers.ValidationError({"stock_adjustment": ["A new product takes its stock in stock."]})
        return attrs

    def get_in_stock(self, product: Product) -> bool:
        return product.stock > 0
