"""Turns Compose's resolved model of the production stack (``docker compose config
--format json`` of docker-compose.prod.yml plus deploy/swarm/docker-stack.yml) into a
file ``docker stack deploy`` accepts.

The docker CLI reads only the version 3 schema, which lacks what the compose file uses
for single-server runs: ``depends_on`` conditions, ``profiles``, ``${VAR:+...}``, a
top-level ``name``. Compose resolves all of that first; this drops what Swarm does not
take, and turns the rest into its spelling. Reads JSON on stdin, writes JSON (which is
YAML) on stdout. Used by scripts/swarm.
"""

from __future__ import annotations

import json
import sys

# Service keys a Swarm service cannot honour, or that only served the single-server run.
DROPPED_SERVICE_KEYS = {"depends_on", "profiles", "build", "restart", "pull_policy", "container_name", "shm_size"}
# security_opt too: Engine 20.10's Swarm cannot set no-new-privileges (documented gap).
DROPPED_SERVICE_KEYS.add("security_opt")


def service_for_swarm(service: dict) -> dict:
    swarm = {key: value for key, value in service.items() if value is not None and key not in DROPPED_SERVICE_KEYS}
    swarm["ports"] = [
        {key: int(value) if key == "published" else value for key, value in port.items() if key != "host_ip"}
        for port in service.get("ports") or []
    ]
    if not swarm["ports"]:
        del swarm["ports"]
    kept = {"type", "source", "target", "read_only"}
    volumes = [{key: value for key, value in volume.items() if key in kept} for volume in service.get("volumes") or []]
    # Swarm ignores a service's tmpfs list; as mounts of type tmpfs it keeps them. Their
    # options (the pooler's uid=70,mode=0700) have no Swarm spelling: the mount is 1777.
    volumes += [{"type": "tmpfs", "target": path.split(":")[0]} for path in swarm.pop("tmpfs", [])]
    if volumes:
        swarm["volumes"] = volumes
    # A setting left unset in compose's environment is unset in the task too (the
    # version 3 loader would look a null value up in the deploying shell instead).
    if isinstance(swarm.get("environment"), dict):
        swarm["environment"] = {name: value for name, value in swarm["environment"].items() if value is not None}
    if isinstance(swarm.get("networks"), dict):
        swarm["networks"] = sorted(swarm["networks"])
    limits = swarm.get("deploy", {}).get("resources", {}).get("limits", {})
    if "cpus" in limits:
        limits["cpus"] = str(limits["cpus"])  # the version 3 schema wants a string
    return swarm


def without_names(section: dict) -> dict:
    """Compose names networks, volumes and secrets after its project; the stack names them itself."""
    return {name: {key: value for key, value in spec.items() if key != "name"} for name, spec in section.items()}


def unused_secrets(model: dict) -> set[str]:
    """Optional secrets left unset: the compose file points them at /dev/null, which
    Swarm refuses (a secret must hold 1 byte or more), so the stack leaves them out."""
    return {name for name, spec in (model.get("secrets") or {}).items() if spec.get("file") == "/dev/null"}


def stack_file(model: dict) -> dict:
    stack = {"version": "3.9", "services": {}}
    unused = unused_secrets(model)
    model["secrets"] = {name: spec for name, spec in (model.get("secrets") or {}).items() if name not in unused}
    for name, service in model["services"].items():
        if service.get("secrets"):
            service["secrets"] = [secret for secret in service["secrets"] if secret.get("source") not in unused]
        stack["services"][name] = service_for_swarm(service)
    for section in ("networks", "volumes", "secrets", "configs"):
        if model.get(section):
            stack[section] = without_names(model[section])
    for network in stack.get("networks", {}).values():
        network.pop("ipam", None)
    return stack


def main() -> None:
    json.dump(stack_file(json.load(sys.stdin)), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
