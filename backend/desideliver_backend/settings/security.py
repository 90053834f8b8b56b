"""Who may talk to the app: secret key, hosts, origins, trusted proxies, passwords."""

from desideliver_backend import env

SECRET_KEY = env.string("SECRET_KEY")
DEBUG = env.boolean("DEBUG", default=False)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.origin_list("CSRF_TRUSTED_ORIGINS", default=[])
# Peers whose X-Forwarded-* headers are believed (desideliver_backend.middleware.proxies); none by default.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES")

CORS_ALLOWED_ORIGINS = env.origin_list("CORS_ALLOWED_ORIGINS", default=[])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
