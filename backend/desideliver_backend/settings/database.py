"""PostgreSQL: DATABASE_URL or DB_* (desideliver_backend.env.database)."""

from desideliver_backend import env

DATABASES = {"default": env.database(conn_max_age=env.integer("DB_CONN_MAX_AGE", 60))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
