"""Prometheus metrics: what the backend and the Celery worker count, and how it is served.

Gunicorn and the Celery worker run several processes, and each counts on its own. The
image's entrypoint gives both a PROMETHEUS_MULTIPROC_DIR (scripts/docker-entrypoint.sh):
every process writes its values to files there, and one thread of the parent process
(Gunicorn's master, the Celery worker's main process) serves their sum on METRICS_PORT
(9100). The edge never proxies that port and no stack publishes it: only the stack's
internal network reaches it. Without the directory (runserver, the test suite) the
values live in the process.

Label values are bounded: a request is labelled with the name of the view its URL
resolves to (``product-detail``), never its path, and a method outside HTTP's usual
seven is "other", so a crawler cannot grow the series.
"""

import os
import time

from django.db.backends.signals import connection_created
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter(
    "desideliver_http_requests",
    "HTTP requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "desideliver_http_request_duration_seconds",
    "Time to answer an HTTP request in the app (after the edge), by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
THROTTLED = Counter(
    "desideliver_throttled_requests",
    "Requests refused by a rate limit (429), by throttle scope.",
    ["scope"],
)
ORDERS_CREATED = Counter("desideliver_orders_created", "Orders placed (committed).")
DB_QUERY_SECONDS = Histogram(
    "desideliver_db_query_duration_seconds",
    "Time of each SQL statement sent to PostgreSQL (its _count is the number of queries).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
CACHE_LOOKUPS = Counter(
    "desideliver_cache_lookups",
    "Reads of a cache that answer a request, by cache and result (hit, miss).",
    ["cache", "result"],
)
BUSY_THREADS = Gauge(
    "desideliver_gunicorn_busy_threads",
    "Gunicorn threads handling a request now (of desideliver_gunicorn_threads).",
    multiprocess_mode="livesum",
)
TASKS = Counter(
    "desideliver_celery_tasks",
    "Celery tasks finished, by task name and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)

# The view label of a path that matches no URL (404s, scanners).
UNMATCHED = "<unmatched>"


def serve(port: int, *collectors) -> None:
    """Serves the sum over every process's files, and ``collectors`` (read when scraped),
    from a thread of this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    for collector in collectors:
        registry.register(collector)
    start_http_server(port, registry=registry)


def _timed_query(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_QUERY_SECONDS.observe(time.perf_counter() - started)


def _time_queries(sender, connection, **kwargs) -> None:
    from django.conf import settings

    if not settings.METRICS_ENABLED:
        return
    # First in the list: Django's own execute_wrapper() pops the last one when its block
    # ends, which would be this one had the connection been opened inside that block.
    if _timed_query not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _timed_query)


# Every connection Django opens, in the web workers and the Celery pool alike.
connection_created.connect(_time_queries, dispatch_uid="desideliver-metrics-queries")


def process_exited(pid: int) -> None:
    """A process's live gauges go with it; its counters stay in the sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


class GunicornCollector:
    """The workers Gunicorn's master runs now, and their threads; served by the master
    beside the workers' busy threads."""

    def __init__(self, arbiter):
        self.arbiter = arbiter

    def collect(self):
        workers = len(self.arbiter.WORKERS)
        yield GaugeMetricFamily("desideliver_gunicorn_workers", "Gunicorn worker processes running.", value=workers)
        yield GaugeMetricFamily(
            "desideliver_gunicorn_threads",
            "Request threads of all Gunicorn workers (workers x GUNICORN_THREADS).",
            value=workers * self.arbiter.cfg.threads,
        )


class BacklogCollector:
    """What waits to be done, read from PostgreSQL and Redis at each scrape (every 15 s or
    so): the outbox by status, the age of its oldest unsent email, the tasks waiting in
    the broker's queues, and which beat holds the scheduling lock. Served by the Celery worker."""

    def __init__(self, broker_queue_length, beat_leader):
        self.broker_queue_length = broker_queue_length
        self.beat_leader = beat_leader

    def collect(self):
        from django.db import connection

        from notifications.selectors import outbox_backlog

        try:
            backlog = outbox_backlog()
        finally:
            # This runs in the HTTP server's thread: its connection is its own, and goes now.
            connection.close()
        emails = GaugeMetricFamily("desideliver_outbox_emails", "Emails in the outbox, by status.", labels=["status"])
        for status, count in backlog.by_status.items():
            emails.add_metric([status], count)
        yield emails
        yield GaugeMetricFamily(
            "desideliver_outbox_oldest_unsent_seconds",
            "Age of the oldest email still pending (0 when none is).",
            value=backlog.oldest_pending_seconds,
        )
        queued = GaugeMetricFamily(
            "desideliver_celery_queue_length", "Tasks waiting in the broker, by queue.", labels=["queue"]
        )
        for queue, length in self.broker_queue_length().items():
            queued.add_metric([queue], length)
        yield queued
        leader = GaugeMetricFamily(
            "desideliver_beat_leader",
            "1 for the beat holding the scheduling lock (host:pid:id); no series: no beat schedules.",
            labels=["holder"],
        )
        holder = self.beat_leader()
        if holder:
            leader.add_metric([holder], 1)
        yield leader


class BackupCollector:
    """The last good scheduled backup and the last restore drills, read at each scrape from
    the tables the backup script keeps in the database it backs up
    (deploy/backup/pg-backup.sh: record_success, drill_if_due), and PostgreSQL's WAL
    archiving (pg_stat_archiver) when it archives (deploy/postgres). No table (backups or
    drills never ran, or are off): none of its series; archiving off: no WAL series.
    Served by the Celery worker."""

    def collect(self):
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT extract(epoch FROM last_archived_time), extract(epoch FROM last_failed_time),"
                    " failed_count FROM pg_stat_archiver WHERE current_setting('archive_mode') <> 'off'"
                )
                archiver = cursor.fetchone()
                cursor.execute(
                    "SELECT to_regclass('backup_status') IS NOT NULL, to_regclass('backup_drill') IS NOT NULL"
                )
                has_backups, has_drills = cursor.fetchone()
                rows = drills = []
                if has_backups:
                    cursor.execute(
                        "SELECT label, extract(epoch FROM succeeded_at), interval_seconds FROM backup_status"
                    )
                    rows = cursor.fetchall()
                if has_drills:
                    cursor.execute(
                        "SELECT label, extract(epoch FROM succeeded_at), extract(epoch FROM failed_at),"
                        " restore_seconds, interval_seconds FROM backup_drill"
                    )
                    drills = cursor.fetchall()
        finally:
            connection.close()  # the HTTP server's thread: its connection goes now
        if archiver is not None:
            yield from self.archiver_metrics(*archiver)
        if drills:
            yield from self.drill_metrics(drills)
        if not rows:
            return
        succeeded = GaugeMetricFamily(
            "desideliver_backup_last_success_timestamp_seconds",
            "When the last checked backup was made, by label.",
            labels=["label"],
        )
        interval = GaugeMetricFamily(
            "desideliver_backup_interval_seconds",
            "How often backups are due, by label (0: not said).",
            labels=["label"],
        )
        for label, succeeded_at, interval_seconds in rows:
            succeeded.add_metric([label], float(succeeded_at))
            interval.add_metric([label], interval_seconds)
        yield succeeded
        yield interval

    @staticmethod
    def drill_metrics(drills):
        """The RestoreDrillFailing alert compares the two times, as WalArchivingFailing
        does; RestoreDrillStale reads the success's age against the interval."""
        families = {
            "succeeded": GaugeMetricFamily(
                "desideliver_restore_drill_last_success_timestamp_seconds",
                "When a restore drill of the scheduled backups last passed, by label.",
                labels=["label"],
            ),
            "failed": GaugeMetricFamily(
                "desideliver_restore_drill_last_failure_timestamp_seconds",
                "When a restore drill of the scheduled backups last failed, by label.",
                labels=["label"],
            ),
            "restore": GaugeMetricFamily(
                "desideliver_restore_drill_restore_seconds",
                "How long the last passing drill's restore took, by label.",
                labels=["label"],
            ),
            "interval": GaugeMetricFamily(
                "desideliver_restore_drill_interval_seconds",
                "How often restore drills are due, by label.",
                labels=["label"],
            ),
        }
        for label, succeeded_at, failed_at, restore_seconds, interval_seconds in drills:
            for key, value in (
                ("succeeded", succeeded_at),
                ("failed", failed_at),
                ("restore", restore_seconds),
                ("interval", interval_seconds),
            ):
                if value is not None:
                    families[key].add_metric([label], float(value))
        yield from families.values()

    @staticmethod
    def archiver_metrics(last_archived, last_failed, failed_count):
        """The WalArchivingFailing alert compares the two times: a failure newer than the
        last success means the newest WAL is only on the database's own volume."""
        for name, when, what in (
            ("success", last_archived, "archived"),
            ("failure", last_failed, "failed to archive"),
        ):
            if when is not None:
                yield GaugeMetricFamily(
                    f"desideliver_wal_archive_last_{name}_timestamp_seconds",
                    f"When PostgreSQL last {what} a WAL segment.",
                    value=float(when),
                )
        yield CounterMetricFamily(
            "desideliver_wal_archive_failures", "WAL segments PostgreSQL failed to archive.", value=failed_count
        )
