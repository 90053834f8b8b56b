"""The development stack: start-up, idle cost, load, hot reload."""

import json
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.stack.checkout import copy_checkout
from tests.stack.stack import dev_ports

from .common import compose, engine_major, get, report, wait_until
from .measure import idle_cpu_percent, memory_mib, wrk

DEV_PROJECT, DEV_PORT = "desideliver-bench", 19000


def dev_stack_env() -> dict:
    """The bench's development stack: its own ports."""
    return dev_ports(DEV_PORT)


def section_dev(args) -> None:
    # The hot-reload measurement edits a view: it runs on a copy, never the working tree.
    with tempfile.TemporaryDirectory() as tmp:
        measure_dev_stack(args, copy_checkout(Path(tmp)))


def measure_dev_stack(args, checkout: Path) -> None:
    project, port, env = DEV_PROJECT, DEV_PORT, dev_stack_env()
    # As scripts/dev does: Engine 25+ probes starting services every second.
    engine25 = ("-f", str(checkout / "docker-compose.engine25.yml")) if engine_major() >= 25 else ()

    def dev(project: str, file: str, *args: str, **kwargs):
        return compose(project, file, *engine25, *args, cwd=checkout, **kwargs)

    dev(project, "docker-compose.yml", "down", "-v", env=env, check=False)
    dev(project, "docker-compose.yml", "build", env=env)
    start = time.monotonic()
    dev(project, "docker-compose.yml", "up", "-d", env=env)
    answering = wait_until(lambda: get(f"http://127.0.0.1:{port}/health/live/") == 200, 120)
    answering = time.monotonic() - start if answering is not None else None

    services = dev(project, "docker-compose.yml", "config", "--services", env=env).stdout.split()

    def all_healthy() -> bool:
        out = dev(project, "docker-compose.yml", "ps", "--format", "json", env=env).stdout
        states = [json.loads(line) for line in out.splitlines() if line.strip()]
        return len(states) == len(services) and all(s.get("Health") in ("healthy", "") for s in states)

    healthy = wait_until(all_healthy, 120, 0.2)
    healthy = time.monotonic() - start if healthy is not None else None
    report(
        "dev stack: `up` to API answering",
        f"{answering:.1f} s" if answering else "never",
        "",
        "<= 5 s",
        "images built, volumes empty; polls /health/live/",
        peer="8.6 s",
        measured=answering if answering else float("inf"),
    )
    report(
        "dev stack: `up` to all services healthy",
        f"{healthy:.1f} s" if healthy else "never",
        "",
        "<= 10 s",
        "docker compose ps health"
        + ("; start_interval 1s (Engine 25+)" if engine25 else "; Engine < 25: no start_interval"),
        measured=healthy if healthy else float("inf"),
    )

    time.sleep(10 if args.quick else 60)
    core = ("backend", "db", "redis")
    core_mem = statistics.mean(memory_mib(project, core) for _ in range(3))
    mem = statistics.mean(memory_mib(project) for _ in range(3))
    window = 10 if args.quick else 60
    cpu = idle_cpu_percent(project, window)
    report(
        "dev stack idle memory: backend, db, redis",
        f"{core_mem:.0f} MiB",
        "",
        "< 220 MiB",
        "docker stats, a minute after start",
        peer="190 MiB (2 services)",
        measured=core_mem,
    )
    report(
        f"dev stack idle memory, all {len(services)} services",
        f"{mem:.0f} MiB",
        f"backend, db, redis {core_mem:.0f} MiB",
        "",
        f"docker stats ({', '.join(services)})",
    )
    # The target covers the app's five services; the mail catcher is reported beside them.
    app_services = ("backend", "worker", "beat", "db", "redis")
    report(
        "dev stack idle CPU (backend, worker, beat, db, redis)",
        f"{sum(cpu.get(name, 0) for name in app_services):.1f}% of a core",
        f"all {len(services)} services {sum(cpu.values()):.1f}%: "
        + ", ".join(f"{name} {value:.2f}" for name, value in sorted(cpu.items())),
        "< 3%",
        f"cgroup CPU time over {window} s, a minute after start; health probes every 10 s",
        peer="~100%",
        measured=sum(cpu.get(name, 0) for name in app_services),
    )

    dev(project, "docker-compose.yml", "exec", "-T", "backend", "python", "manage.py", "seed_demo", env=env)
    loaded: list[float] = []
    sampler = threading.Thread(target=lambda: (time.sleep(5), loaded.append(memory_mib(project))))
    sampler.start()
    wrk(f"http://127.0.0.1:{port}/api/products/", 5 if args.quick else 10, connections=20)
    sampler.join()
    report(
        "dev stack memory under load",
        f"{loaded[0]:.0f} MiB",
        f"idle {mem:.0f} MiB",
        "< 1 GiB",
        "docker stats during wrk -c20 on /api/products/",
        measured=loaded[0] / 1024,
    )

    views = checkout / "backend" / "cart" / "views.py"
    original = views.read_text()
    marker = f"bench-{uuid.uuid4().hex}"
    schema = f"http://127.0.0.1:{port}/api/schema/?format=json"
    get(schema, timeout=30)
    views.write_text(original.replace('"""The signed-in user\'s cart', f'"""{marker} The signed-in user\'s cart'))
    start = time.monotonic()

    def served() -> bool:
        try:
            with urllib.request.urlopen(schema, timeout=5) as response:
                return marker in response.read().decode()
        except OSError:
            return False

    reload_time = wait_until(served, 60, 0.05)
    report(
        "hot reload: save to new response",
        f"{reload_time:.2f} s" if reload_time else "never",
        "",
        "< 2 s",
        "a view's docstring changed, polled in /api/schema/",
        measured=reload_time if reload_time else float("inf"),
    )
    dev(project, "docker-compose.yml", "down", "-v", env=env, check=False)
