from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from desideliver_backend.media import serve_media
from desideliver_backend.schema import SchemaView
from users.admin import admin_login

# /health/live/ and /health/ready/ are answered by HealthCheckMiddleware.
urlpatterns = [
    path("admin/login/", admin_login, name="admin-login"),  # throttled; see users.admin
    path("admin/", admin.site.urls),
    path("api/auth/", include("users.urls")),
    path("api/", include("products.urls")),
    path("api/cart/", include("cart.urls")),
    path("api/orders/", include("orders.urls")),
    path("api/tickets/", include("tickets.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", serve_media),
    ]
