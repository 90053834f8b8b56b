"""The users' GitHub workflows run what .ci/run runs, with pinned actions and least privilege."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def ci_run_test_commands() -> list[str]:
    """The commands .ci/run runs from scripts/, in order (those it runs alongside another
    too), without clean-up and the stack suite's installs (test-stack makes them itself)."""
    lines = [
        re.sub(r"^alongside [\w-]+ ", "", line.strip()) for line in (ROOT / ".ci" / "run").read_text().splitlines()
    ]
    return [
        line
        for line in lines
        if line.startswith("scripts/") and " down" not in line and line != "scripts/dev test-stack-tools"
    ]


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
    assert set(jobs["production"]["needs"]) == {"image", "scan", "tags"}


def test_no_tag_names_the_image_before_its_scan_passes():
    jobs = workflow("release.yml")["jobs"]
    build = next(step for step in jobs["image"]["steps"] if step.get("id") == "build")["with"]
    assert "tags" not in build
    assert "push-by-digest=true" in build["outputs"]
    assert set(jobs["tags"]["needs"]) == {"image", "scan"}
    tagging = " ".join(step.get("run", "") for step in jobs["tags"]["steps"])
    assert 'imagetools create "${args[@]}" "$IMAGE@$DIGEST"' in tagging


def test_a_chart_is_published_only_for_a_release_tag_and_at_its_version():
    chart = workflow("release.yml")["jobs"]["chart"]
    assert chart["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert chart["needs"] == "tags"
    package = " ".join(step.get("run", "") for step in chart["steps"])
    assert '--version "${VERSION#v}" --app-version "${VERSION#v}"' in package


PINNED = r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}"
MONITORING_IMAGES = {
    "PROMETHEUS_IMAGE",
    "ALERTMANAGER_IMAGE",
    "POSTGRES_EXPORTER_IMAGE",
    "REDIS_EXPORTER_IMAGE",
    "BLACKBOX_EXPORTER_IMAGE",
    "NODE_EXPORTER_IMAGE",
    "GRAFANA_IMAGE",
}
# No registry or package reachable here ships Grafana: its dashboards are checked against
# Prometheus instead (tests/stack/test_monitoring.py).
WITHOUT_STAND_IN = {"GRAFANA_IMAGE"}


def compose_pins() -> dict[str, str]:
    """compose.images.yml: the variable that replaces each pin, and the pin."""
    text = (ROOT / "compose.images.yml").read_text()
    return dict(re.findall(r"\$\{(\w+_IMAGE):-([^}]+)\}", text))


def test_each_base_image_is_pinned_by_digest_in_one_place():
    pins = compose_pins()
    pins["PYTHON_IMAGE"] = re.search(r"ARG PYTHON_IMAGE=(\S+)", (ROOT / "Dockerfile").read_text()).group(1)
    assert set(pins) == {
        "PYTHON_IMAGE",
        "POSTGRES_IMAGE",
        "REDIS_IMAGE",
        "CADDY_IMAGE",
        "PGBOUNCER_IMAGE",
        "MAILDEV_IMAGE",
        *MONITORING_IMAGES,
    }
    for variable, image in pins.items():
        # The development-only mail catcher and the opt-in monitoring profile go by their tags.
        if variable != "MAILDEV_IMAGE" and variable not in MONITORING_IMAGES:
            assert re.fullmatch(PINNED, image), f"{variable}: {image}"
    # The stacks take each image from there; none names one of its own.
    for name in ("docker-compose.yml", "docker-compose.prod.yml", "deploy/swarm/docker-stack.yml"):
        text = (ROOT / name).read_text()
        assert not re.search(r"^\s*image: (?!\$\{(BACKEND_IMAGE|COMPOSE_PROJECT_NAME)\b)", text, re.MULTILINE), name
        assert not any(image in text for image in pins.values()), name
    for name in (".env.example", "deploy/production.env.example"):
        assert not any(image in (ROOT / name).read_text() for image in pins.values()), name


def test_each_stand_in_runs_its_pins_version_line():
    """CI runs on scripts/base-images/build's images: each must be of the release line
    (major, or major.minor where the tag says it) that production's pin names."""
    build = (ROOT / "scripts" / "base-images" / "build").read_text()
    stand_ins = dict(re.findall(r'^(\w+)_image="\$prefix/[\w-]+:([\w.]+)"', build, re.MULTILINE))
    pins = compose_pins()
    pins["PYTHON_IMAGE"] = re.search(r"ARG PYTHON_IMAGE=(\S+)", (ROOT / "Dockerfile").read_text()).group(1)
    for variable, pin in pins.items():
        if variable in WITHOUT_STAND_IN:
            assert variable.removesuffix("_IMAGE").lower() not in stand_ins
            continue
        tag = pin.split("@")[0].rsplit(":", 1)[1]  # e.g. 7-alpine, v1.24.1-p1, 3.13-slim-trixie
        line = stand_ins[variable.removesuffix("_IMAGE").lower()]
        assert tag.lstrip("v").startswith(line) and tag.lstrip("v")[len(line) : len(line) + 1] in {"", ".", "-"}, (
            f"{variable}: the stand-in is {line}, production pins {tag}"
        )


def test_the_chart_runs_the_backup_on_the_compose_stacks_postgres():
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "desideliver" / "values.yaml").read_text())
    assert values["backup"]["image"] == compose_pins()["POSTGRES_IMAGE"]


def test_the_database_volume_moves_with_postgres_data_dir_in_both_stacks():
    """PostgreSQL 18 images keep their data in /var/lib/postgresql: the upgrade sets a
    variable rather than editing the compose files."""
    for name in ("docker-compose.yml", "docker-compose.prod.yml"):
        text = (ROOT / name).read_text()
        assert "- postgres-data:${POSTGRES_DATA_DIR:-/var/lib/postgresql/data}" in text, name
