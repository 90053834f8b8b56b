"""The production image's SBOM lists exactly the pinned runtime requirements."""

import json
import re

from tests.stack.stack import REPO_DIR, run


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO_DIR / "backend" / "requirements" / "base.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_sbom_lists_every_pinned_requirement_and_nothing_else(prod_stack):
    image = prod_stack.inspect("backend")["Config"]["Image"]
    result = run([str(REPO_DIR / "scripts" / "sbom"), image], timeout=300)
    sbom = json.loads(result.stdout)
    assert sbom["bomFormat"] == "CycloneDX"
    shipped = {canonical(component["name"]): component["version"] for component in sbom["components"]}
    assert shipped == pinned_requirements()
    assert all(component["purl"].startswith("pkg:pypi/") for component in sbom["components"])
