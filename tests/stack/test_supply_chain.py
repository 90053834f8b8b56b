"""The production image's SBOM lists exactly the runtime dependencies uv.lock pins."""

import json

from tests.stack.lockfile import canonical, runtime_pins
from tests.stack.stack import REPO_DIR, run


def test_the_sbom_lists_every_pinned_requirement_and_nothing_else(prod_stack):
    image = prod_stack.inspect("backend")["Config"]["Image"]
    result = run([str(REPO_DIR / "scripts" / "sbom"), image], timeout=300)
    sbom = json.loads(result.stdout)
    assert sbom["bomFormat"] == "CycloneDX"
    shipped = {canonical(component["name"]): component["version"] for component in sbom["components"]}
    assert shipped == runtime_pins()
    assert all(component["purl"].startswith("pkg:pypi/") for component in sbom["components"])
