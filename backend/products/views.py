from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, viewsets
from rest_framework.renderers import JSONRenderer

from . import cache, selectors
from .permissions import IsStaffOrReadOnly
from .serializers import CategorySerializer, ProductSerializer


class CachedCatalogueMixin:
    """Anonymous and customer JSON reads come from Redis as rendered bodies; staff
    (who also see inactive rows) and other formats always go to the database.
    CatalogueCacheMiddleware serves anonymous hits before they reach this view."""

    cache_kind = ""

    def _cacheable(self, request) -> bool:
        return not request.user.is_staff and request.accepted_renderer.format == "json"

    def _cached(self, request, kind: str, identifier: str, build) -> HttpResponse:
        key = cache.request_key(request, f"{self.cache_kind}-{kind}", identifier)
        body = cache.cached_body(key, lambda: JSONRenderer().render(build().data))
        return HttpResponse(body, content_type="application/json")

    def list(self, request, *args, **kwargs):
        if not self._cacheable(request):
            return super().list(request, *args, **kwargs)
        return self._cached(
            request, "list", "", lambda: super(CachedCatalogueMixin, self).list(request, *args, **kwargs)
        )

    def retrieve(self, request, *args, **kwargs):
        if not self._cacheable(request):
            return super().retrieve(request, *args, **kwargs)
        return self._cached(
            request,
            "detail",
            str(kwargs[self.lookup_field]),
            lambda: super(CachedCatalogueMixin, self).retrieve(request, *args, **kwargs),
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
