"""Every variable the compose files read is listed, with its meaning, in .env.example."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


COMPOSE_FILES = ["docker-compose.yml", "docker-compose.prod.yml", "deploy/swarm/docker-stack.yml"]


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_every_compose_variable_is_in_the_env_example(compose_file):
    documented = (ROOT / ".env.example").read_text()
    variables = set(re.findall(r"\$\{(\w+)", (ROOT / compose_file).read_text()))
    missing = sorted(name for name in variables if not re.search(rf"\b{name}\b", documented))
    assert missing == [], f"{compose_file} reads variables .env.example does not list"
