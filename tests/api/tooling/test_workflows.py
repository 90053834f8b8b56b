"""The users' GitHub workflows run what .ci/run runs, with pinned actions and least privilege."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def ci_run_test_commands() -> list[str]:
    """The commands .ci/run runs from scripts/, in order, without clean-up."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    return [line for line in lines if line.startswith("scripts/") and " down" not in line]


def test_ci_runs_the_same_test_commands_as_dot_ci_run():
    steps = workflow("ci.yml")["jobs"]["tests"]["steps"]
    commands = [step["run"].strip() for step in steps if "run" in step and step.get("if") != "failure()"]
    dot_ci = [command for command in ci_run_test_commands() if command != "scripts/dev lint"]
    assert commands == dot_ci
    assert "scripts/dev lint" in ci_run_test_commands()
    lint = " ".join(step.get("run", "") for step in workflow("ci.yml")["jobs"]["lint"]["steps"])
    assert "pre-commit run --all-files" in lint  # what scripts/dev lint runs


def test_every_action_is_pinned_to_a_commit():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d", line), f"{path.name}: {line.strip()}"


def test_every_job_asks_only_for_what_it_needs():
    for path in WORKFLOWS.glob("*.yml"):
        document = workflow(path.name)
        assert document["permissions"] == {}, f"{path.name}: workflow-wide permissions"
        for name, job in document["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
            assert "write-all" not in str(job["permissions"])


def test_release_pushes_a_scanned_multi_arch_image_with_attestations_and_an_approved_production_tag():
    jobs = workflow("release.yml")["jobs"]
    build = next(step for step in jobs["image"]["steps"] if step.get("id") == "build")["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert build["sbom"] is True and build["provenance"] == "mode=max"
    trivy = jobs["scan"]["steps"][0]["with"]
    assert (trivy["severity"], trivy["ignore-unfixed"], trivy["exit-code"]) == ("HIGH,CRITICAL", True, "1")
    assert jobs["production"]["environment"] == "production"
    assert set(jobs["production"]["needs"]) == {"image", "scan"}


def test_base_images_are_pinned_by_digest_the_same_everywhere():
    digests = {}
    sources = {
        "Dockerfile": r"ARG PYTHON_IMAGE=(\S+)",
        "docker-compose.yml": r"\$\{(\w+_IMAGE):-([^}]+)\}",
        "docker-compose.prod.yml": r"\$\{(\w+_IMAGE):-([^}]+)\}",
    }
    for name, pattern in sources.items():
        for match in re.finditer(pattern, (ROOT / name).read_text()):
            variable, image = match.groups() if len(match.groups()) == 2 else ("PYTHON_IMAGE", match.group(1))
            if variable not in {"PYTHON_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "CADDY_IMAGE"}:
                continue  # our own image, and the development-only mail catcher
            assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), f"{name}: {image}"
            digests.setdefault(variable, set()).add(image)
    assert set(digests) == {"PYTHON_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "CADDY_IMAGE"}
    assert all(len(images) == 1 for images in digests.values()), digests
