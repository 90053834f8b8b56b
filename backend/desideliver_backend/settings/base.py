"""Settings shared by every environment. local.py and production.py state only their differences."""

from datetime import timedelta
from pathlib import Path

from desideliver_backend import config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = config.string("SECRET_KEY")
DEBUG = config.boolean("DEBUG", default=False)
ALLOWED_HOSTS = config.string_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = config.origin_list("CSRF_TRUSTED_ORIGINS", default=[])
# Peers whose X-Forwarded-* headers are believed (desideliver_backend.proxies); none by default.
TRUSTED_PROXIES = config.networks("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, pinned and served from the image
    "desideliver_backend",  # project-wide management commands
    "notifications",
    "users",
    "products",
    "cart",
    "orders",
    "tickets",
]

MIDDLEWARE = [
    # Answers /health/* before host validation and HTTPS redirects, so container
    # probes on 127.0.0.1 work whatever ALLOWED_HOSTS says.
    "desideliver_backend.health.HealthCheckMiddleware",
    # Forwarded headers from anyone but TRUSTED_PROXIES are dropped before anything reads them.
    "desideliver_backend.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "desideliver_backend.input_guard.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Anonymous catalogue reads already in Redis are answered here, before the session,
    # CSRF, authentication and DRF layers they do not need.
    "products.catalogue_cache.CatalogueCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "desideliver_backend.urls"
WSGI_APPLICATION = "desideliver_backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": config.database(conn_max_age=config.integer("DB_CONN_MAX_AGE", 60))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_PASSWORD = config.string("REDIS_PASSWORD", default="") or None
_REDIS_TIMEOUTS = {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
CACHES = {
    # The data Redis (REDIS_URL): throttle counters and the beat lock, beside the broker.
    # It must never evict; a failure is raised, so throttles refuse rather than allow
    # (desideliver_backend.throttling).
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": config.redis_url(),
        "KEY_PREFIX": "desideliver",
        "OPTIONS": {"PASSWORD": REDIS_PASSWORD, **_REDIS_TIMEOUTS},
    },
    # The catalogue cache (REDIS_CACHE_URL): rebuildable entries in an instance of its own
    # with maxmemory and allkeys-lru, since maxmemory-policy is per instance. An outage
    # costs milliseconds, not a hung request: reads fall back to PostgreSQL, logged.
    "catalogue": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": config.redis_url("REDIS_CACHE_URL", default=config.redis_url()),
        "KEY_PREFIX": "desideliver",
        "OPTIONS": {"PASSWORD": REDIS_PASSWORD, **_REDIS_TIMEOUTS, "IGNORE_EXCEPTIONS": True},
    },
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "desideliver.cache"
CATALOGUE_CACHE_SECONDS = config.integer("CATALOGUE_CACHE_SECONDS", 300)
# How long Redis may answer "which catalogue version is current" before asking PostgreSQL
# again: the worst-case staleness of a write Django did not make or could not report.
CATALOGUE_VERSION_SECONDS = config.integer("CATALOGUE_VERSION_SECONDS", 2, minimum=1)

# Celery: its own database (CELERY_REDIS_DB, default 1) on the data Redis.
# Chosen for losing nothing: a task is acknowledged only after it ran, goes back to
# the queue if its worker process dies, and one worker process takes one task at a
# time. The visibility timeout (after which Redis hands an unacknowledged task to
# another worker) is well above the hard time limit of any task.
CELERY_BROKER_URL = config.redis_url_for_database(
    CACHES["default"]["LOCATION"], config.integer("CELERY_REDIS_DB", 1), REDIS_PASSWORD
)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    # Redis has no message priorities; kombu keeps one list per step and always reads the
    # lowest step first (notifications.models.OutboxEmail.Priority uses 0 and 6).
    "priority_steps": [0, 3, 6, 9],
    "sep": ":",
    "queue_order_strategy": "priority",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
# Celery logs through LOGGING below like the rest (UTC stamps, JSON in production).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "desideliver_backend.celery:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/celerybeat-schedule"  # noqa: S108 (a tmpfs in the containers)
# Seconds between sweeps for outbox emails left unsent (broker down at commit, worker died).
OUTBOX_SWEEP_SECONDS = config.integer("OUTBOX_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    "cancel-stale-pending-orders": {"task": "orders.tasks.cancel_stale_pending_orders", "schedule": 600.0},
    "flush-expired-tokens": {"task": "users.tasks.flush_expired_tokens", "schedule": 86400.0},
    "outbox-purge-sent": {"task": "notifications.tasks.outbox_purge_sent", "schedule": 86400.0},
}
# Sent emails (addresses, order details) are deleted after this many days.
OUTBOX_RETENTION_DAYS = config.integer("OUTBOX_RETENTION_DAYS", 30, minimum=1)
# Notices (orders, tickets) an hour to an address its owner has not verified.
OUTBOX_UNVERIFIED_PER_HOUR = config.integer("OUTBOX_UNVERIFIED_PER_HOUR", 5, minimum=1)
# Outbox emails: attempts before a row is marked failed (with backoff 30 s, 1, 2, 4... min).
OUTBOX_MAX_ATTEMPTS = config.integer("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
# Seconds a worker's claim on an email lasts: longer than the slowest send, since a worker
# that dies mid-send leaves the email to be sent again only once its claim has expired.
OUTBOX_CLAIM_SECONDS = config.integer("OUTBOX_CLAIM_SECONDS", 120, minimum=30)
# Orders still pending after this many minutes are cancelled and their stock returned:
# a pending order holds stock, so an unconfirmed one must not hold it for long.
ORDER_PENDING_TIMEOUT_MINUTES = config.integer("ORDER_PENDING_TIMEOUT_MINUTES", 60, minimum=1)
# What one customer may hold at once (staff are not limited): units of one product per
# order, and orders still pending (orders.services._check_customer_limits).
ORDER_MAX_UNITS_PER_LINE = config.integer("ORDER_MAX_UNITS_PER_LINE", 20, minimum=1)
ORDER_MAX_PENDING = config.integer("ORDER_MAX_PENDING", 3, minimum=1)

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(config.string("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# seed_demo's demo users and passwords belong on development machines only.
DEMO_DATA_ALLOWED = False

# Development serves product images from MEDIA_ROOT through Django (desideliver_backend.media);
# production leaves them to the proxy or a CDN.
SERVE_MEDIA = config.boolean("SERVE_MEDIA", default=True)

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
    "DEFAULT_THROTTLE_RATES": config.rates(
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
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=config.integer("JWT_ACCESS_MINUTES", 30, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=config.integer("JWT_REFRESH_DAYS", 7, minimum=1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
    # Each refresh returns a new refresh token and blacklists the old one: a stolen
    # refresh token works once at most, and logout or a password change revokes them.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
# Where password-reset emails send people: the shop's page that reads uid and token
# and posts them to /api/auth/password/reset/confirm/.
PASSWORD_RESET_URL = config.string("PASSWORD_RESET_URL", "https://desideliver.in/reset-password")
# Where verification emails send people: the page that posts uid and token to /api/auth/email/verify/.
EMAIL_VERIFY_URL = config.string("EMAIL_VERIFY_URL", "https://desideliver.in/verify-email")
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

CORS_ALLOWED_ORIGINS = config.origin_list("CORS_ALLOWED_ORIGINS", default=[])

EMAIL_BACKEND = config.string("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = config.string("DEFAULT_FROM_EMAIL", "DesiDeliver <orders@desideliver.in>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = config.string("EMAIL_HOST", "localhost")
EMAIL_PORT = config.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_TIMEOUT = 10

LOG_LEVEL = config.string("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "readable": {
            "()": "desideliver_backend.logging.UtcFormatter",
            "format": "{asctime} {levelname:<7} {name}: {message}",
            "style": "{",
        },
        "json": {"()": "desideliver_backend.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "readable"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}

# `manage.py test` runs the pytest suite in tests/api.
TEST_RUNNER = "desideliver_backend.test_runner.PytestRunner"
