"""The Grafana dashboards of the monitoring profile (deploy/monitoring/grafana): files
Grafana provisions as they are. That every panel's query returns series is shown against
the production stack's Prometheus (tests/stack/test_monitoring.py)."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy" / "monitoring" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))


def test_there_is_a_dashboard_for_the_api_celery_and_the_data_services():
    assert [path.stem for path in DASHBOARDS] == ["api", "celery", "data"]


def test_dashboard_uids_are_unique_and_stable():
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    assert all(uid.startswith("desideliver-") and len(uid) <= 40 for uid in uids), uids


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_panel_queries_the_provisioned_prometheus(path):
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasources["datasources"][0]["uid"]
    board = json.loads(path.read_text())
    assert board["panels"], path.name
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids), path.name
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]
        assert panel["description"], f"{panel['title']}: say what it shows and when to worry"
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_compose_mounts_what_the_provisioning_names():
    compose = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())
    mounts = dict(volume.split(":")[:2][::-1] for volume in compose["services"]["grafana"]["volumes"])
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "desideliver.yml").read_text())
    assert mounts[provider["providers"][0]["options"]["path"]] == "./deploy/monitoring/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/monitoring/grafana/provisioning"
