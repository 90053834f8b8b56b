"""Gunicorn settings for the production image (read from the working directory).

Workers follow the CPUs the container may really use: a CPU limit (cgroup quota)
counts, not the host's core count. WEB_CONCURRENCY overrides the worker count.
"""

import math
import os


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


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# WEB_CONCURRENCY=0 (or unset) means: two workers per usable CPU.
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or 2 * _cpu_limit()
# Threads let one worker overlap database and Redis waits and keep client connections alive.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Load the app once in the master: workers fork with it ready, and a bad
# configuration stops the container with its one-line error instead of a crash loop.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20  # on SIGTERM, finish in-flight requests for up to 20 s
keepalive = 5
# Recycling workers guards against slow leaks; too often, and every recycle costs
# a cold worker under load.
max_requests = 20000
max_requests_jitter = 2000
# The root filesystem is read-only; heartbeat files live in memory.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs private to the container)
# Only the reverse proxy on the compose network reaches the app.
forwarded_allow_ips = "*"
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"remote": "%({x-forwarded-for}i)s", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": %(B)s, "ms": %(M)s, "agent": "%(a)s"}'
)
control_socket_disable = True
