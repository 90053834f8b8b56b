"""Every variable the compose files read is listed, with its meaning: the development
stack's in .env.example, production's there or in deploy/production.env.example."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


PRODUCTION = [".env.example", "deploy/production.env.example"]
COMPOSE_FILES = {
    "docker-compose.yml": [".env.example"],
    "docker-compose.prod.yml": PRODUCTION,
    "deploy/swarm/docker-stack.yml": PRODUCTION,
    "compose.images.yml": PRODUCTION,
}


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_every_compose_variable_is_in_the_env_example(compose_file):
    documented = "".join((ROOT / name).read_text() for name in COMPOSE_FILES[compose_file])
    text = (ROOT / compose_file).read_text()
    # ${NAME...} interpolations (not $${NAME}, which the container's shell reads), and the
    # names passed on as they are (`<<: {NAME, ...}`).
    passed_on = [name.strip() for names in re.findall(r"<<: \{([\w,\s]+)\}", text) for name in names.split(",")]
    variables = set(re.findall(r"(?<!\$)\$\{(\w+)", text)) | set(passed_on)
    missing = sorted(name for name in variables if not re.search(rf"\b{name}\b", documented))
    assert missing == [], f"{compose_file} reads variables {' or '.join(COMPOSE_FILES[compose_file])} does not list"
