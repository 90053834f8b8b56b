"""Prometheus metrics (desideliver_backend/metrics.py)."""

from desideliver_backend import env

# Off: no request or SQL timing and no metrics port, for a shop with no Prometheus
# (scripts/bench measures what they cost when on).
METRICS_ENABLED = env.boolean("METRICS_ENABLED", default=True)
# Where Gunicorn's master and the Celery worker serve the sums of their processes: the
# stack's internal network only, never proxied by the edge nor published.
METRICS_PORT = env.integer("METRICS_PORT", 9100, minimum=1)
