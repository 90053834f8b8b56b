from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, viewsets

from . import selectors, services
from .catalogue_cache import CachedCatalogueMixin
from .permissions import IsStaffOrReadOnly
from .serializers import CategorySerializer, ProductSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("category", OpenApiTypes.STR, description="Category id or slug."),
        ]
    )
)
class ProductViewSet(CachedCatalogueMixin, viewsets.ModelViewSet):
    """The catalogue: public reads, staff-only writes."""

    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["price", "name", "created_at"]
    cache_kind = "product"
    list_parameters = ("category",)  # read by get_queryset

    def get_queryset(self):
        staff = bool(self.request.user and self.request.user.is_staff)
        category = self.request.query_params.get("category") if self.action == "list" else None
        return selectors.product_list(include_inactive=staff, category=category)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        adjustment = changes.pop("stock_adjustment", 0)
        serializer.instance = services.product_update(
            product=serializer.instance, changes=changes, stock_adjustment=adjustment
        )


class CategoryViewSet(CachedCatalogueMixin, viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = None
    cache_kind = "category"

    def get_queryset(self):
        return selectors.category_list(include_inactive=bool(self.request.user and self.request.user.is_staff))
