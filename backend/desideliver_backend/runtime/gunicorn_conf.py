"""Gunicorn settings for the production image (runtime/gunicorn_start.py loads them by module name).

One gthread worker per CPU the container may really use (a cgroup CPU quota
counts, not the host's core count), each with its own listening socket. Measured
in docs/PERFORMANCE.md: more processes than CPUs only contend for them, and one
shared socket let a burst of clients pile onto one or two workers; both showed as
a p99 two to four times higher at 100 connections.
"""

import logging
import math
import os
import time

from gunicorn.glogging import Logger

# (Not "import config": Gunicorn would take a module-level "config" for its own setting.)
from desideliver_backend.env import boolean, integer, networks


def _cpu_limit() -> int:
    cpus = len(os.sched_getaffinity(0))
    try:  # cgroup v2: "max 100000" or "150000 100000"
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()  # noqa: SIM115
        if quota != "max":
            cpus = min(cpus, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        try:  # cgroup v1
            quota = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())  # noqa: SIM115
            period = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read())  # noqa: SIM115
            if quota > 0:
                cpus = min(cpus, math.ceil(quota / period))
        except (OSError, ValueError):
            pass
    return max(cpus, 1)


bind = f"0.0.0.0:{integer('PORT', 8000, minimum=1)}"
# WEB_CONCURRENCY=0 (or unset) means: one worker per usable CPU.
workers = integer("WEB_CONCURRENCY", 0) or _cpu_limit()
# Threads let one worker overlap database and Redis waits and keep client connections alive.
# gthread, except that a connection which has sent nothing yet waits in the worker's
# poller rather than in a thread (desideliver_backend/runtime/gunicorn_worker.py).
worker_class = "desideliver_backend.runtime.gunicorn_worker.ThreadWorker"
threads = integer("GUNICORN_THREADS", 4, minimum=1)
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new
# connections evenly; with one shared socket, whichever worker woke first took
# most of a burst and kept those keep-alive connections. When a worker stops
# (recycled or restarted), connections queued on its socket move to a sibling:
# docker-compose.prod.yml sets net.ipv4.tcp_migrate_req for that.
reuse_port = True
# Load the app once in the master: workers fork with it ready, and a bad
# configuration stops the container with its one-line error instead of a crash loop.
preload_app = True
timeout = integer("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 20  # on SIGTERM, finish in-flight requests for up to 20 s
# Gunicorn always sits behind a proxy here (Caddy, an ingress, a cloud load balancer),
# which keeps idle upstream connections for 60 s. Gunicorn must hold them longer: if
# it closes one first, a request the proxy sends on it that moment fails, and a POST
# is not retried. A connection that has not sent a byte is closed after this too.
keepalive = integer("GUNICORN_KEEPALIVE", 75, minimum=1)
# Recycling workers guards against slow leaks; too often, and every recycle drops
# the worker's keep-alive connections and costs a cold worker under load (at full
# load on 2 CPUs, 20,000 meant a recycle every ten seconds or so).
max_requests = 100_000
max_requests_jitter = 10_000
# The root filesystem is read-only; heartbeat files live in memory.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs private to the container)
# X-Forwarded-Proto is believed only from the proxies Django trusts (TRUSTED_PROXIES).
forwarded_allow_ips = ",".join(networks("TRUSTED_PROXIES", "docker-networks"))
errorlog = "-"
# Django sets the process's TZ to TIME_ZONE; Gunicorn's own lines stay in UTC like the app's JSON lines.
logging.Formatter.converter = time.gmtime
# The TLS proxy in front usually logs every request already; here a JSON line per
# request costs about a quarter of the throughput (Docker's log pipeline), so it is opt-in.
accesslog = "-" if boolean("GUNICORN_ACCESS_LOG", default=False) else None
access_log_format = (
    '{"remote": "%({x-forwarded-for}i)s", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": %(B)s, "ms": %(M)s, "agent": "%(a)s"}'
)


class ProbeQuietLogger(Logger):
    """The access log without health probes: the edge's readiness checks alone are a line
    per replica every second."""

    def access(self, resp, req, environ, request_time):
        if not req.path.startswith("/health/"):
            super().access(resp, req, environ, request_time)


logger_class = ProbeQuietLogger
control_socket_disable = True


def when_ready(server):
    # The master serves the Prometheus metrics of every worker (desideliver_backend/metrics.py).
    from django.conf import settings

    from desideliver_backend import metrics

    if settings.METRICS_ENABLED:
        metrics.serve(settings.METRICS_PORT, metrics.GunicornCollector(server))


def post_fork(server, worker):
    from desideliver_backend import tracing

    tracing.start("backend")


def child_exit(server, worker):
    from desideliver_backend import metrics

    metrics.process_exited(worker.pid)
