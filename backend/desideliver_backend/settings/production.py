"""Production: DEBUG off, secrets required and checked, HTTPS behind a TLS proxy,
hashed static files through WhiteNoise, one JSON log line per event, SendGrid mail."""

from desideliver_backend import env

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, CACHES, DATABASES, LOGGING, REDIS_PASSWORD

DEBUG = False
# Django asks for 50 characters; an example placeholder or a dev key is refused.
SECRET_KEY = env.secret("SECRET_KEY", min_length=50)
env.secret("DATABASE_URL" if env.string("DATABASE_URL", "") else "DB_PASSWORD", min_length=8)
# "*" would let any Host header through: password-reset links and absolute URLs use it.
if any(host.strip(".") in {"*", ""} for host in ALLOWED_HOSTS):
    raise env.ConfigurationError("ALLOWED_HOSTS", "must name this site's hosts; '*' accepts any Host header")
# Redis holds the cache and the throttle counters: never open to the network without a password.
if REDIS_PASSWORD is not None or "@" not in CACHES["default"]["LOCATION"]:
    env.secret("REDIS_PASSWORD", min_length=16)
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DB_CONN_MAX_AGE", 300)

# The edge proxy says whether the client used HTTPS, and who the client is; by default
# the only peers believed are those on this container's own Docker networks (the proxy).
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES", "docker-networks")
if env.boolean("USE_X_FORWARDED_PROTO", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000)
# Both bind every subdomain (and, preloaded, every browser) for a year: opt in once sure.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=False)
# check --deploy nags about the two above; leaving them off is this project's deliberate default.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
# Uploaded files are never served by Django here: the proxy or a CDN serves the media volume.
SERVE_MEDIA = env.boolean("SERVE_MEDIA", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# SendGrid over SMTP with an API key; another EMAIL_BACKEND (a staging console, say)
# makes the key optional.
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":  # noqa: F405
    EMAIL_HOST = env.string("EMAIL_HOST", "smtp.sendgrid.net")
    EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1)
    # STARTTLS, as SendGrid wants; off only for a relay on a private network.
    EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=True)
    EMAIL_HOST_USER = "apikey"
    EMAIL_HOST_PASSWORD = env.secret("SENDGRID_API_KEY", min_length=20)

LOGGING["handlers"]["console"]["formatter"] = "json"
