"""The Celery app: emails and periodic jobs, on the Redis broker.

Settings come from Django's (CELERY_* in settings/base.py). Two small pieces make
the containers' health checks cost next to nothing: the worker touches a
heartbeat file from its own timer, and beat touches one on every tick; a probe
only reads the file's age (no `celery inspect ping`, which imports Django and
asks the broker). Beat also holds a Redis lock, so a second beat stands by
instead of scheduling every job twice.
"""

import os
import uuid
from pathlib import Path

from celery import Celery, bootsteps, signals
from celery.beat import PersistentScheduler
from celery.utils.log import get_logger

from desideliver_backend import metrics
from desideliver_backend.middleware import request_id  # noqa: F401 (its signals carry the request's ID into tasks)

logger = get_logger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desideliver_backend.settings.production")

app = Celery("desideliver_backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_DIR = Path(os.environ.get("CELERY_HEARTBEAT_DIR", "/tmp"))  # noqa: S108 (a tmpfs in the containers)
WORKER_HEARTBEAT = HEARTBEAT_DIR / "celery-worker.heartbeat"
BEAT_HEARTBEAT = HEARTBEAT_DIR / "celery-beat.heartbeat"
HEARTBEAT_SECONDS = 10


def _touch(path: Path) -> None:
    path.touch()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Touches WORKER_HEARTBEAT every few seconds from the worker's timer: a worker
    whose event loop is stuck stops touching it."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        _touch(WORKER_HEARTBEAT)
        self.timer_entry = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, _touch, (WORKER_HEARTBEAT,), priority=10)

    def stop(self, worker):
        if getattr(self, "timer_entry", None):
            self.timer_entry.cancel()
        WORKER_HEARTBEAT.unlink(missing_ok=True)


app.steps["worker"].add(WorkerHeartbeat)


# Metrics (desideliver_backend/metrics.py): the pool's processes count the tasks they
# finish; the worker's main process serves the sums and the backlog on METRICS_PORT.
@signals.worker_init.connect
def _serve_metrics(**_):
    from django.conf import settings

    if settings.METRICS_ENABLED:
        collectors = metrics.BacklogCollector(broker_queue_length, beat_leader), metrics.BackupCollector()
        metrics.serve(settings.METRICS_PORT, *collectors)


# Tracing (desideliver_backend/tracing.py): each pool process its own exporter.
@signals.worker_process_init.connect
def _start_tracing(**_):
    from desideliver_backend import tracing

    tracing.start("worker")


def broker_queue_length() -> dict[str, int]:
    """Tasks waiting in each queue, over its priority lists (CELERY_BROKER_TRANSPORT_OPTIONS)."""
    steps = app.conf.broker_transport_options.get("priority_steps", [0])
    separator = app.conf.broker_transport_options.get("sep", ":")
    with app.connection_for_read() as connection:
        client = connection.default_channel.client
        lists = [app.conf.task_default_queue] + [
            f"{app.conf.task_default_queue}{separator}{step}" for step in steps if step
        ]
        return {app.conf.task_default_queue: sum(client.llen(name) for name in lists)}


@signals.task_success.connect
def _count_success(sender=None, **_):
    metrics.TASKS.labels(sender.name, "succeeded").inc()


@signals.task_failure.connect
def _count_failure(sender=None, **_):
    metrics.TASKS.labels(sender.name, "failed").inc()


@signals.task_retry.connect
def _count_retry(sender=None, **_):
    metrics.TASKS.labels(sender.name, "retried").inc()


@signals.worker_process_shutdown.connect
def _forget_process(pid=None, **_):
    metrics.process_exited(pid or os.getpid())


class SingleBeatScheduler(PersistentScheduler):
    """Beat that schedules only while it holds a Redis lock; any other beat started
    beside it (a scaled service, a second server) waits and takes over if the
    holder dies. Its schedule state lives in /tmp (no pidfile at all: a stale one
    can never stop a restart)."""

    LOCK_KEY = "desideliver:celery-beat:leader"
    LOCK_SECONDS = 30

    def __init__(self, *args, **kwargs):
        self._identity = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._redis = None
        super().__init__(*args, **kwargs)

    def _lock_client(self):
        if self._redis is None:
            from django_redis import get_redis_connection

            self._redis = get_redis_connection("default")
        return self._redis

    def _lead(self) -> bool:
        client = self._lock_client()
        try:
            if client.set(self.LOCK_KEY, self._identity, nx=True, ex=self.LOCK_SECONDS):
                return True
            holder = client.get(self.LOCK_KEY)
            if holder is not None and holder.decode() == self._identity:
                client.expire(self.LOCK_KEY, self.LOCK_SECONDS)
                return True
        except Exception as exc:  # Redis unreachable: nobody can lead, and nothing can be sent anyway
            logger.warning("beat lock unavailable: %s", exc)
        return False

    def tick(self, *args, **kwargs):
        _touch(BEAT_HEARTBEAT)
        if not self._lead():
            return 5.0
        return min(super().tick(*args, **kwargs), 5.0)


def beat_leader() -> str | None:
    """The beat that holds the scheduling lock now (SingleBeatScheduler), if any."""
    from django_redis import get_redis_connection

    holder = get_redis_connection("default").get(SingleBeatScheduler.LOCK_KEY)
    return holder.decode() if holder else None
