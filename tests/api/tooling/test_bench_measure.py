"""scripts/bench's readings: what it makes of wrk's output, docker stats and cgroup files.
A misread unit or a skipped error line would print a wrong figure, not fail."""

from pathlib import Path

import pytest

from scripts.benchmark.measure import parse_wrk, process_cpu_seconds, sum_memory

WRK_WITH_ERRORS = """Running 2s test @ http://127.0.0.1:19500/nothing-here
  2 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.34ms    1.47ms    1.02s    82.34%
    Req/Sec   687.62    351.89     1.24k    52.50%
  Latency Distribution
     50%  417.00us
     75%    4.93ms
     90%    5.78ms
     99%    1.90s
  2741 requests in 2.00s, 1.36MB read
  Socket errors: connect 0, read 2, write 0, timeout 11
  Non-2xx or 3xx responses: 31
Requests/sec:   1368.52
Transfer/sec:    694.95KB
"""


def test_wrk_figures_in_milliseconds_whatever_unit_wrk_chose():
    result = parse_wrk(WRK_WITH_ERRORS)
    assert result["rps"] == 1368.52
    assert result["requests"] == 2741
    assert result["p50"] == pytest.approx(0.417)
    assert result["p99"] == pytest.approx(1900)
    assert result["max"] == pytest.approx(1020)


def test_wrk_errors_count_socket_errors_and_bad_statuses():
    result = parse_wrk(WRK_WITH_ERRORS)
    assert result["breakdown"] == {"connect": 0, "read": 2, "write": 0, "timeout": 11, "non-2xx/3xx": 31}
    assert result["errors"] == 44


def test_a_clean_wrk_run_has_no_errors():
    clean = "\n".join(line for line in WRK_WITH_ERRORS.splitlines() if "errors" not in line and "Non-2xx" not in line)
    assert parse_wrk(clean)["errors"] == 0


def test_memory_sums_one_projects_containers_in_mib():
    stats = "\n".join(
        [
            "desideliver-bench-backend-1|120.5MiB / 1GiB",
            "desideliver-bench-db-1|1.5GiB / 2GiB",
            "desideliver-bench-redis-1|512KiB / 256MiB",
            "desideliver-bench-prod-backend-1|999MiB / 1GiB",
            "other-backend-1|50MiB / 1GiB",
        ]
    )
    assert sum_memory(stats, "desideliver-bench") == pytest.approx(120.5 + 1536 + 0.5 + 999)
    assert sum_memory(stats, "desideliver-bench", ("backend", "redis")) == pytest.approx(121)


def write(root: Path, path: str, text: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


def test_cpu_time_from_cgroup_v2(tmp_path):
    write(tmp_path, "proc/42/cgroup", "0::/system.slice/docker-abc.scope\n")
    write(tmp_path, "sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat", "usage_usec 2500000\nuser_usec 1\n")
    assert process_cpu_seconds(42, tmp_path) == 2.5


def test_cpu_time_from_cgroup_v1_also_on_a_hybrid_host(tmp_path):
    # Hybrid: the unified line names a group without cpu.stat; the v1 cpuacct one counts.
    write(tmp_path, "proc/42/cgroup", "12:cpu,cpuacct:/docker/abc\n0::/docker/abc\n")
    write(tmp_path, "sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage", "1500000000\n")
    assert process_cpu_seconds(42, tmp_path) == 1.5


def test_no_cpu_accounting_is_an_error_not_zero(tmp_path):
    write(tmp_path, "proc/42/cgroup", "0::/docker/abc\n")
    with pytest.raises(RuntimeError, match="no CPU accounting"):
        process_cpu_seconds(42, tmp_path)


def test_targets_are_judged_by_their_first_comparison():
    from scripts.benchmark.common import judge

    assert judge(2.0, "<= 3 s") and not judge(3.5, "<= 3 s")
    assert judge(0.25, "<= 0.25x") and not judge(0.26, "<= 0.25x")
    assert not judge(220, "< 220 MiB")
    assert judge(1200, ">= 1178 req/s")
    with pytest.raises(ValueError):
        judge(1, "0 errors")


def test_largest_added_paths_list_packages_not_the_directory_holding_them():
    from scripts.benchmark.images import largest_entries

    site = "/opt/venv/lib/python3.13/site-packages"
    sizes = {
        site: 90,
        f"{site}/django": 50,
        f"{site}/PIL": 30,
        f"{site}/six.py": 10,
        "/usr/local/bin": 40,
        "/usr/local/bin/docker-entrypoint.sh": 2,
        "/usr/local/bin/python3.13": 38,
    }
    inherited = {"/usr/local/bin": 38, "/usr/local/bin/python3.13": 38}
    assert largest_entries(sizes, inherited, 3) == [(f"{site}/django", 50), (f"{site}/PIL", 30), (f"{site}/six.py", 10)]
    assert ("/usr/local/bin/docker-entrypoint.sh", 2) in largest_entries(sizes, inherited, 10)
