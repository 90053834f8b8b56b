"""Celery on the data Redis, and the email outbox it drains."""

from desideliver_backend import env

from .cache import CACHES, REDIS_PASSWORD

# Celery: its own database (CELERY_REDIS_DB, default 1) on the data Redis.
# Chosen for losing nothing: a task is acknowledged only after it ran, goes back to
# the queue if its worker process dies, and one worker process takes one task at a
# time. The visibility timeout (after which Redis hands an unacknowledged task to
# another worker) is well above the hard time limit of any task.
CELERY_BROKER_URL = env.redis_url_for_database(
    CACHES["default"]["LOCATION"], env.integer("CELERY_REDIS_DB", 1), REDIS_PASSWORD
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
    # A connect nobody answers (Redis's old address while compose recreates it, a network
    # partition) fails after this many seconds (redis-py tries three times), not after the
    # kernel's two minutes of SYN retries: a request queueing an email, and a worker's warm
    # shutdown, wait seconds at most.
    "socket_connect_timeout": 1,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1  # the result backend's client, likewise
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
# Celery logs through LOGGING below like the rest (UTC stamps, JSON in production).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "desideliver_backend.runtime.celery:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/celerybeat-schedule"  # noqa: S108 (a tmpfs in the containers)
# Seconds between sweeps for outbox emails left unsent (broker down at commit, worker died).
OUTBOX_SWEEP_SECONDS = env.integer("OUTBOX_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    "cancel-stale-pending-orders": {"task": "orders.tasks.cancel_stale_pending_orders", "schedule": 600.0},
    "flush-expired-tokens": {"task": "users.tasks.flush_expired_tokens", "schedule": 86400.0},
    "outbox-purge-sent": {"task": "notifications.tasks.outbox_purge_sent", "schedule": 86400.0},
}
# Sent emails (addresses, order details) are deleted after this many days.
OUTBOX_RETENTION_DAYS = env.integer("OUTBOX_RETENTION_DAYS", 30, minimum=1)
# Notices (orders, tickets) an hour to an address its owner has not verified.
OUTBOX_UNVERIFIED_PER_HOUR = env.integer("OUTBOX_UNVERIFIED_PER_HOUR", 5, minimum=1)
# Outbox emails: attempts before a row is marked failed, and the first retry's delay in
# seconds (then doubled each time, up to an hour: 30 s, 1, 2, 4... min by default).
OUTBOX_MAX_ATTEMPTS = env.integer("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
OUTBOX_BACKOFF_SECONDS = env.integer("OUTBOX_BACKOFF_SECONDS", 30, minimum=1)
# Seconds a worker's claim on an email lasts: longer than the slowest send, since a worker
# that dies mid-send leaves the email to be sent again only once its claim has expired.
OUTBOX_CLAIM_SECONDS = env.integer("OUTBOX_CLAIM_SECONDS", 120, minimum=5)
# Seconds the sweep leaves a new row alone: the task queued at its commit is on its way.
OUTBOX_SWEEP_GRACE_SECONDS = env.integer("OUTBOX_SWEEP_GRACE_SECONDS", 30, minimum=1)
