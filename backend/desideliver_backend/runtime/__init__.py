"""The processes the image runs besides Django itself: Gunicorn (its settings, its
worker and the start-up that readies the database first) and the Celery app that the
worker and beat run (scripts/docker-entrypoint.sh starts each)."""
