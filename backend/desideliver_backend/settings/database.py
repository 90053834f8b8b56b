"""PostgreSQL: DATABASE_URL or DB_* (desideliver_backend.env.database), directly or through a pooler."""

from desideliver_backend import env

DATABASES = {"default": env.database(conn_max_age=env.integer("DB_CONN_MAX_AGE", 60))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# With a transaction pooler (PgBouncer) at DB_HOST, DB_DIRECT_HOST is PostgreSQL itself:
# what a pooled connection cannot do goes there (prepare_database's migrations, whose
# advisory lock is a session's). A transaction may run on a different server connection
# from the last, so no cursor may outlive one: server-side cursors are off.
_direct_host = env.string("DB_DIRECT_HOST", "")
DATABASE_DIRECT = (
    {"HOST": _direct_host, "PORT": env.integer("DB_DIRECT_PORT", 5432, minimum=1)} if _direct_host else None
)
if DATABASE_DIRECT:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Seconds any one statement of the app's role may run (0: no limit). Set by prepare_database
# as the role's default, so it holds through a pooler too, which passes no session options.
DB_STATEMENT_TIMEOUT = env.integer("DB_STATEMENT_TIMEOUT", 30)
