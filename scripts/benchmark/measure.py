"""Readings: wrk's figures, memory from docker stats, CPU time from cgroups."""

import re
import tempfile
import time
from pathlib import Path

from .common import sh


def wrk(
    url: str,
    seconds: int,
    connections: int = 100,
    script: str | None = None,
    timeout: int = 2,
    headers: dict | None = None,
) -> dict:
    """wrk's figures; a response slower than ``timeout`` seconds counts as an error."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency"]
    for name, value in {"X-Forwarded-Proto": "https", **(headers or {})}.items():
        args += ["-H", f"{name}: {value}"]
    if script:
        path = Path(tempfile.mkdtemp()) / "script.lua"
        path.write_text(script)
        args += ["-s", str(path)]
    return parse_wrk(sh(*args, url).stdout)


def parse_wrk(out: str) -> dict:
    def ms(pattern: str) -> float:
        value, unit = re.search(pattern + r"([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    socket_errors = {kind: int(n) for kind, n in re.findall(r"(connect|read|write|timeout) (\d+)", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    breakdown = {**socket_errors, "non-2xx/3xx": int(non2xx.group(1)) if non2xx else 0}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": ms(r"\s50%\s+"),
        "p99": ms(r"\s99%\s+"),
        "errors": sum(breakdown.values()),
        "breakdown": breakdown,
        "max": ms(r"Latency\s+\S+\s+\S+\s+"),  # the slowest response: the Max column
    }


def fmt_wrk(result: dict) -> str:
    return (
        f"{result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, {result['errors']} errors"
    )


def memory_mib(project: str, services: tuple[str, ...] = ()) -> float:
    """Memory in use by a project's containers (or only the named services), summed, from docker stats."""
    return sum_memory(
        sh("docker", "stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}").stdout, project, services
    )


def sum_memory(stats: str, project: str, services: tuple[str, ...] = ()) -> float:
    """MiB in use, from `docker stats --format '{{.Name}}|{{.MemUsage}}'` lines."""
    mem = 0.0
    for line in stats.splitlines():
        name, mem_text = line.split("|")
        if not name.startswith(project + "-"):
            continue
        if services and name.removeprefix(project + "-").rsplit("-", 1)[0] not in services:
            continue
        value, unit = re.match(r"([\d.]+)\s*([KMG]i?B)", mem_text).groups()
        mem += float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "kB": 1 / 1000, "MB": 1, "GB": 1000}[unit]
    return mem


def cpu_per_request(containers: tuple[str, ...], load) -> tuple[dict, dict[str, float]]:
    """Runs ``load`` (a wrk call) and returns its figures with each container's CPU time,
    from its cgroup, in microseconds per request the run served."""
    before = {container: cpu_seconds(container) for container in containers}
    result = load()
    return result, {c: (cpu_seconds(c) - before[c]) / result["requests"] * 1e6 for c in containers}


def cpu_seconds(container: str) -> float:
    """CPU time all of a container's processes have used."""
    return process_cpu_seconds(int(sh("docker", "inspect", "-f", "{{.State.Pid}}", container).stdout))


def process_cpu_seconds(pid: int, root: Path = Path("/")) -> float:
    """CPU time of the cgroup a process is in: cgroup v2's cpu.stat, else v1's cpuacct."""
    for line in (root / f"proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            stat = root / f"sys/fs/cgroup{path}/cpu.stat"
            if stat.exists():
                return int(re.search(r"usage_usec (\d+)", stat.read_text()).group(1)) / 1e6
        if "cpuacct" in controllers.split(","):
            return int((root / f"sys/fs/cgroup/cpuacct{path}/cpuacct.usage").read_text()) / 1e9
    raise RuntimeError(f"no CPU accounting found for process {pid}")


def idle_cpu_percent(project: str, seconds: float) -> dict[str, float]:
    """Each service's CPU use over the same window, in % of a core."""
    out = sh("docker", "ps", "--filter", f"label=com.docker.compose.project={project}",
             "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}').stdout  # fmt: skip
    containers = [line.split() for line in out.splitlines()]
    before = {c: cpu_seconds(c) for c, _ in containers}
    time.sleep(seconds)
    used: dict[str, float] = {}
    for container, service in containers:
        used[service] = used.get(service, 0) + (cpu_seconds(container) - before[container]) / seconds * 100
    return used
