"""This engine in and out of Swarm mode, for the real-Swarm tests.

Joining is harmless to the other stacks running on the engine; leaving is not:
`docker swarm leave` drops the DNS names of the containers already running on
user-defined bridge networks (moby/moby#45144), so a stack running beside the
Swarm tests could no longer find its db or redis. The suite therefore joins when
the Swarm tests start and leaves once, at the end of the session (conftest.py's
pytest_sessionfinish, after every xdist worker and every other stack is done),
then restarts the containers still running, which registers their names again.
"""

import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.stack.stack import container_healthy, run, wait_for

LABELS = ["desideliver.app=true", "desideliver.db=true", "desideliver.redis=true"]


def _state_file() -> Path:
    """Shared by the session's processes: set by the controller before the workers start."""
    folder = os.environ.setdefault("STACK_SUITE_STATE", tempfile.mkdtemp(prefix="desideliver-stack-suite-"))
    return Path(folder) / "joined-swarm.json"


def swarm_state() -> str:
    return run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"]).stdout.strip()


def node_id() -> str:
    return run(["docker", "info", "--format", "{{.Swarm.NodeID}}"]).stdout.strip()


def join() -> bool:
    """Makes this engine a one-node Swarm with the stack's placement labels; True if this
    suite joined (and will leave at the end), False if it was a Swarm already."""
    if swarm_state() == "active":
        joined = False
    else:
        # Joining makes the docker_gwbridge network, which leaving keeps: it goes too, if new.
        gwbridge = run(["docker", "network", "ls", "-q", "--filter", "name=^docker_gwbridge$"]).stdout.strip()
        run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"])
        _state_file().write_text(json.dumps({"had_gwbridge": bool(gwbridge)}))
        joined = True
    run(["docker", "node", "update", *[arg for label in LABELS for arg in ("--label-add", label)], node_id()])
    return joined


def remove_labels() -> None:
    labels = [arg for label in LABELS for arg in ("--label-rm", label.split("=")[0])]
    run(["docker", "node", "update", *labels, node_id()])


def leave_if_joined() -> list[str]:
    """Leaves the Swarm this suite joined and restores the names of the containers still
    running; returns what is still wrong afterwards (empty if all is well)."""
    state = _state_file()
    if not state.exists():
        return []
    had_gwbridge = json.loads(state.read_text())["had_gwbridge"]
    state.unlink()
    run(["docker", "swarm", "leave", "--force"])
    if not had_gwbridge:
        run(["docker", "network", "rm", "docker_gwbridge"], check=False)
    return restore_container_names()


def _inspect(container: str, template: str) -> str:
    return run(["docker", "inspect", "-f", template, container]).stdout.strip()


def restore_container_names() -> list[str]:
    """Restarts the running containers on user-defined networks, waits until those with a
    health check are healthy, and checks that each compose project's containers find
    their sibling services by name again; returns the names that do not resolve."""
    running = run(["docker", "ps", "-q"]).stdout.split()
    builtin = {"bridge", "host", "none"}
    affected = [c for c in running if set(json.loads(_inspect(c, "{{json .NetworkSettings.Networks}}"))) - builtin]
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda container: run(["docker", "restart", container]), affected))
    checked = [c for c in affected if _inspect(c, "{{if .State.Health}}y{{end}}")]
    wait_for(lambda: all(container_healthy(c) for c in checked), timeout=180, what="the restarted containers healthy")
    projects: dict[str, dict[str, str]] = {}
    for container in affected:
        labels = json.loads(_inspect(container, "{{json .Config.Labels}}"))
        if "com.docker.compose.project" in labels:
            projects.setdefault(labels["com.docker.compose.project"], {})[labels["com.docker.compose.service"]] = (
                container
            )
    unresolved = []
    for project, services in projects.items():
        asking = next((c for c in services.values() if _has_getent(c)), None)
        for service in services if asking else ():
            if run(["docker", "exec", asking, "getent", "hosts", service], check=False).returncode != 0:
                unresolved.append(f"{project}: {service}")
    return unresolved


def _has_getent(container: str) -> bool:
    return run(["docker", "exec", container, "sh", "-c", "command -v getent"], check=False).returncode == 0
