"""Django REST Framework (parsers, errors, throttle rates), JWT and the OpenAPI schema."""

from datetime import timedelta

from desideliver_backend import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "desideliver_backend.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "desideliver_backend.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "desideliver_backend.exceptions.api_exception_handler",
    # Throttles key on REMOTE_ADDR, which TrustedProxyMiddleware has already set to the
    # real client's address; the raw X-Forwarded-For is never read (see users.throttles).
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": env.rates(
        "THROTTLE_RATES",
        {
            "login": "10/minute",
            "register": "20/hour",
            "refresh": "60/minute",
            "password_reset": "5/hour",
            "password_change": "5/hour",
            "email_verify": "5/hour",
            "admin_login": "10/minute",
            "orders": "10/hour",
            "schema": "30/minute",
        },
    ),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.integer("JWT_ACCESS_MINUTES", 30, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.integer("JWT_REFRESH_DAYS", 7, minimum=1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
    # Each refresh returns a new refresh token and blacklists the old one: a stolen
    # refresh token works once at most, and logout or a password change revokes them.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DesiDeliver API",
    "DESCRIPTION": "Groceries and food delivery: catalogue, cart, orders and support.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
    },
}
