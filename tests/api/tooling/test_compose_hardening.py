"""Every production service, of every profile, is hardened the same way (x-hardened in
docker-compose.prod.yml): a read-only root, no capabilities, no privilege escalation,
CPU and memory limits, and logs that rotate, so no service can fill the disk with them.
The running stack's containers are checked too (tests/stack/test_prod_stack.py)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SERVICES = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())["services"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_service_is_hardened_and_its_logs_rotate(name):
    service = SERVICES[name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["restart"] == "unless-stopped"
    limits = service["deploy"]["resources"]["limits"]
    assert limits["cpus"] and limits["memory"]
    logging = service["logging"]
    assert logging["driver"] == "json-file"
    assert logging["options"]["max-size"] and int(logging["options"]["max-file"]) >= 1
