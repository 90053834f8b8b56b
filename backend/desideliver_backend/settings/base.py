"""Settings shared by every environment. local.py and production.py state only their differences.

Django's own settings and the apps' rules are here; each integration has a module of
its own, imported below (docs/ARCHITECTURE.md, "Where does X live").
"""

from pathlib import Path

from desideliver_backend import env

# In the order start-up has always read them: with several variables wrong, the one
# named is the same as before the split.
# isort: off
from .security import *  # noqa: F403
from .database import *  # noqa: F403
from .cache import *  # noqa: F403
from .celery import *  # noqa: F403
from .api import *  # noqa: F403
from .email_sending import *  # noqa: F403
from .logging import *  # noqa: F403
from .storage import *  # noqa: F403
from .error_tracking import *  # noqa: F403
from .metrics import *  # noqa: F403
from .tracing import *  # noqa: F403

# isort: on

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, pinned and served from the image
]
# The project's own apps hold no static files (settings/build.py collects without them).
LOCAL_APPS = [
    "desideliver_backend",  # project-wide management commands
    "notifications",
    "users",
    "products",
    "cart",
    "orders",
    "tickets",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Answers /health/* before host validation and HTTPS redirects, so container
    # probes on 127.0.0.1 work whatever ALLOWED_HOSTS says.
    "desideliver_backend.middleware.health.HealthCheckMiddleware",
    # Every other request counted and timed, by view (desideliver_backend/metrics.py).
    "desideliver_backend.middleware.metrics.MetricsMiddleware",
    # Forwarded headers from anyone but TRUSTED_PROXIES are dropped before anything reads them.
    "desideliver_backend.middleware.proxies.TrustedProxyMiddleware",
    # The edge's X-Request-ID (or a new one) on every log line, task and response.
    "desideliver_backend.middleware.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "desideliver_backend.middleware.input_guard.RejectNulMiddleware",
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
if not METRICS_ENABLED:  # noqa: F405 (settings/metrics.py)
    MIDDLEWARE.remove("desideliver_backend.middleware.metrics.MetricsMiddleware")

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

# Orders still pending after this many minutes are cancelled and their stock returned:
# a pending order holds stock, so an unconfirmed one must not hold it for long.
ORDER_PENDING_TIMEOUT_MINUTES = env.integer("ORDER_PENDING_TIMEOUT_MINUTES", 60, minimum=1)
# What one customer may hold at once (staff are not limited): units of one product per
# order, and orders still pending (orders.services._check_customer_limits).
ORDER_MAX_UNITS_PER_LINE = env.integer("ORDER_MAX_UNITS_PER_LINE", 20, minimum=1)
ORDER_MAX_PENDING = env.integer("ORDER_MAX_PENDING", 3, minimum=1)

AUTH_USER_MODEL = "users.User"

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": MEDIA_STORAGE_BACKEND,  # noqa: F405 (settings/storage.py)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Pages name static files through {% static %}, which gives the hashed names: the
# unhashed copies collectstatic would also keep are never requested.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# seed_demo's demo users and passwords belong on development machines only.
DEMO_DATA_ALLOWED = False

# Development serves product images from MEDIA_ROOT through Django (desideliver_backend.media);
# production leaves them to the proxy or a CDN.
SERVE_MEDIA = env.boolean("SERVE_MEDIA", default=True)

# `manage.py test` runs the pytest suite in tests/api.
TEST_RUNNER = "desideliver_backend.test_runner.PytestRunner"
