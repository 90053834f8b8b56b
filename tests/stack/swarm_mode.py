"""This engine in Swarm mode for the Swarm tests, and left as it was found.

Leaving a Swarm drops the DNS names of the containers already running on user-defined
bridge networks (moby/moby#45144): every other stack of the suite, and the developer's
own, could no longer find db or redis. The Swarm tests run beside the other stacks (one
xdist group among the others), so the leave waits until every worker has finished: a
worker hands it to the controller (`hand_over_or_leave`), which leaves at the end of the
session (conftest.py, `pytest_sessionfinish`). Run without xdist, the fixture leaves itself.

A membership is a plain dict, so that xdist can carry it from the worker to the controller.
"""

import json
from concurrent.futures import ThreadPoolExecutor

from tests.stack.stack import container_healthy, run, wait_for

# The key of a membership handed from a worker to the controller (xdist's workeroutput).
HANDOVER = "swarm_to_leave"
NODE_LABELS = ["desideliver.app=true", "desideliver.db=true", "desideliver.redis=true", "desideliver.monitoring=true"]


def state() -> str:
    return run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"]).stdout.strip()


def resolves(container: str, name: str) -> bool:
    return run(["docker", "exec", container, "getent", "hosts", name], check=False).returncode == 0


def join(image: str, prefix: str) -> dict:
    """Joins a single-node Swarm unless the engine is in one, and labels the node for the
    stack's placement constraints. Two containers on a bridge network of their own are
    started first: the ones whose names leaving would drop, checked after the leave."""
    network, probes = f"{prefix}-dns", [f"{prefix}-dns-{side}" for side in ("a", "b")]
    remove_probes({"probes": probes, "network": network})  # an interrupted session's
    run(["docker", "network", "create", network])
    for name in probes:
        # --init: as PID 1 `sleep` would ignore the restart's SIGTERM and wait out its 10 s.
        run(["docker", "run", "-d", "--init", "--name", name, "--network", network, "--no-healthcheck",
             "--entrypoint", "sleep", image, "infinity"])  # fmt: skip
    assert resolves(*probes), "two containers on one bridge network resolve each other's names"
    membership = {
        "joined": state() != "active",
        # Joining makes the docker_gwbridge network, which leaving keeps: it goes too.
        "had_gwbridge": bool(
            run(["docker", "network", "ls", "-q", "--filter", "name=^docker_gwbridge$"]).stdout.strip()
        ),
        "probes": probes,
        "network": network,
    }
    if membership["joined"]:
        run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"])
    membership["node"] = run(["docker", "info", "--format", "{{.Swarm.NodeID}}"]).stdout.strip()
    run(
        [
            "docker",
            "node",
            "update",
            *[arg for label in NODE_LABELS for arg in ("--label-add", label)],
            membership["node"],
        ]
    )
    return membership


def hand_over_or_leave(config, membership: dict) -> None:
    """After the Swarm tests: leaves now when nothing else runs on the engine, or hands the
    leave to the xdist controller when other workers may still have stacks running."""
    if not membership["joined"]:
        # A Swarm that was there before: only the labels go.
        run(["docker", "node", "update", *[a for label in NODE_LABELS for a in ("--label-rm", label.split("=")[0])],
             membership["node"]])  # fmt: skip
        remove_probes(membership)
    elif hasattr(config, "workeroutput"):
        config.workeroutput[HANDOVER] = membership
    else:
        problem = leave(membership)
        assert problem is None, problem


def leave(membership: dict) -> str | None:
    """Leaves the Swarm this suite joined; restarts the containers whose names that dropped.
    Returns what went wrong, or None."""
    run(["docker", "swarm", "leave", "--force"])
    if not membership["had_gwbridge"]:
        run(["docker", "network", "rm", "docker_gwbridge"], check=False)
    restore_container_names()
    try:
        if not resolves(*membership["probes"]):
            return "after leaving the Swarm a container on a bridge network cannot resolve its peer"
        return None
    finally:
        remove_probes(membership)


def remove_probes(membership: dict) -> None:
    run(["docker", "rm", "-f", *membership["probes"]], check=False)
    run(["docker", "network", "rm", membership["network"]], check=False)


def restore_container_names() -> None:
    """Restarts the running containers on user-defined networks: a restart registers their
    names again (moby/moby#45144)."""

    def inspect(container: str, template: str) -> str:
        return run(["docker", "inspect", "-f", template, container]).stdout.strip()

    running = run(["docker", "ps", "-q"]).stdout.split()
    builtin = {"bridge", "host", "none"}
    affected = [c for c in running if set(json.loads(inspect(c, "{{json .NetworkSettings.Networks}}"))) - builtin]
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda container: run(["docker", "restart", container]), affected))
    checked = [c for c in affected if inspect(c, "{{if .State.Health}}y{{end}}")]
    wait_for(lambda: all(container_healthy(c) for c in checked), timeout=180, what="the restarted containers healthy")
