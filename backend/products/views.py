from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, viewsets
from rest_framework.response import Response

from . import cache, selectors
from .permissions import IsStaffOrReadOnly
from .serializers import CategorySerializer, ProductSerializer


class CachedCatalogueMixin:
    """Anonymous and customer reads come from Redis; staff always see the database."""

    cache_kind = ""

    def _cacheable(self) -> bool:
        return not (self.request.user and self.request.user.is_staff)

    def list(self, request, *args, **kwargs):
        if not self._cacheable():
            return super().list(request, *args, **kwargs)
        query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.items()))
        cache_key = cache.key(f"{self.cache_kind}-list", query)
        return Response(
            cache.get_or_build(cache_key, lambda: super(CachedCatalogueMixin, self).list(request, *args, **kwargs).data)
        )

    def retrieve(self, request, *args, **kwargs):
        if not self._cacheable():
            return super().retrieve(request, *args, **kwargs)
        cache_key = cache.key(f"{self.cache_kind}-detail", str(kwargs[self.lookup_field]))
        return Response(
            cache.get_or_build(
                cache_key, lambda: super(CachedCatalogueMixin, self).retrieve(request, *args, **kwargs).data
            )
        )


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

    def get_queryset(self):
        staff = bool(self.request.user and self.request.user.is_staff)
        category = self.request.query_params.get("category") if self.action == "list" else None
        return selectors.product_list(include_inactive=staff, category=category)


class CategoryViewSet(CachedCatalogueMixin, viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = None
    cache_kind = "category"

    def get_queryset(self):
        return selectors.category_list(include_inactive=bool(self.request.user and self.request.user.is_staff))
