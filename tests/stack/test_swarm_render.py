"""scripts/swarm's rendering of the production compose file for `docker stack deploy`,
checked without a Swarm: the docker CLI's own loader accepts the result, and what the
stack relies on survives the translation."""

import json

import yaml

from tests.stack.stack import REPO_DIR, clean_env, run


def rendered(tmp_path, profiles: str = "backup,pooler", **settings: str) -> tuple[dict, str]:
    """What `scripts/swarm deploy` would deploy (`scripts/swarm render`)."""
    secret = tmp_path / "secret"
    secret.write_text("a-secret-value-long-enough-for-every-one-of-them-0123456789\n")
    env = clean_env(
        ALLOWED_HOSTS="api.example.com",
        COMPOSE_PROFILES=profiles,
        **{name: "" for name in ("SECRET_KEY", "DB_PASSWORD", "REDIS_PASSWORD", "SENDGRID_API_KEY")},
        **{f"{name}_FILE": str(secret) for name in ("SECRET_KEY", "DB_PASSWORD", "REDIS_PASSWORD", "SENDGRID_API_KEY")},
        **settings,
    )
    stack = run([str(REPO_DIR / "scripts" / "swarm"), "render"], env=env).stdout
    path = tmp_path / "stack.json"
    path.write_text(stack)
    return json.loads(stack), str(path)


def test_the_docker_cli_accepts_the_rendered_stack(tmp_path):
    _, path = rendered(tmp_path)
    loaded = yaml.safe_load(run(["docker", "stack", "config", "-c", path]).stdout)
    assert set(loaded["services"]) == {
        "proxy",
        "ready-backends",
        "backend",
        "worker",
        "beat",
        "db",
        "redis",
        "cache",
        "backup",
        "pooler",
    }
    assert all("encrypted" in network["driver_opts"] for network in loaded["networks"].values())
    # An optional secret left unset (/dev/null) would be an empty Swarm secret, which Swarm refuses.
    assert "django_superuser_password" not in loaded["secrets"]


MONITORING = {"prometheus", "alertmanager", "grafana", "postgres-exporter", "redis-exporter", "blackbox-exporter",
              "node-exporter"}  # fmt: skip


def test_the_monitoring_profile_renders_unpublished_with_its_files_as_configs(tmp_path):
    stack, path = rendered(tmp_path, "monitoring")
    loaded = yaml.safe_load(run(["docker", "stack", "config", "-c", path]).stdout)
    assert set(loaded["services"]) >= MONITORING
    for name in MONITORING:
        service = stack["services"][name]
        assert "ports" not in service, f"{name}: Swarm cannot publish on the loopback"
        assert service["deploy"]["endpoint_mode"] == "dnsrr", name
        binds = [volume for volume in service.get("volumes", []) if volume["type"] == "bind"]
        assert binds == (
            [{"type": "bind", "source": "/", "target": "/host", "read_only": True}] if name == "node-exporter" else []
        ), name
    assert stack["services"]["node-exporter"]["deploy"]["mode"] == "global", "every node's disks"
    for name in ("prometheus", "alertmanager", "grafana"):
        assert stack["services"][name]["deploy"]["placement"]["constraints"] == [
            "node.labels.desideliver.monitoring == true"
        ]
    targets = {config["target"] for name in MONITORING for config in stack["services"][name].get("configs", [])}
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml", "/etc/alertmanager/start.sh",
            "/etc/blackbox_exporter/start.sh", "/etc/grafana/dashboards/api.json"} <= targets  # fmt: skip


def test_an_s3_backup_repository_gives_the_database_and_the_backup_service_alone_a_route_out(tmp_path):
    """COMPOSE_FILE with deploy/backup/s3-repository.yml, as for docker compose and scripts/db."""
    assert "backup-egress" not in rendered(tmp_path)[0]["networks"], "no route out without it"
    stack, path = rendered(
        tmp_path,
        COMPOSE_FILE="docker-compose.prod.yml:deploy/backup/s3-repository.yml",
        PGBACKREST_REPO1_TYPE="s3",
        PGBACKREST_REPO1_S3_BUCKET="desideliver-wal",
    )
    run(["docker", "stack", "config", "-c", path])
    on_the_way_out = {name for name, service in stack["services"].items() if "backup-egress" in service["networks"]}
    assert on_the_way_out == {"db", "backup"}
    assert stack["networks"]["backup-egress"] == {"driver": "overlay", "driver_opts": {"encrypted": "true"}}
    assert stack["networks"]["internal"]["internal"] is True
    for name in ("db", "backup"):
        assert stack["services"][name]["environment"]["PGBACKREST_REPO1_TYPE"] == "s3", name


def test_every_service_is_reached_by_dns_round_robin_and_the_edge_publishes_on_its_node(tmp_path):
    stack, _ = rendered(tmp_path)
    for name, service in stack["services"].items():
        assert service["deploy"]["endpoint_mode"] == "dnsrr", name
        assert not {"depends_on", "profiles", "build", "tmpfs"} & set(service), name
    assert {port["mode"] for port in stack["services"]["proxy"]["ports"]} == {"host"}
    assert {(port["target"], port["protocol"]) for port in stack["services"]["proxy"]["ports"]} == {
        (80, "tcp"),
        (443, "tcp"),
        (443, "udp"),
    }
    assert all("ports" not in service for name, service in stack["services"].items() if name != "proxy")


def test_hardening_and_writable_paths_survive(tmp_path):
    stack, _ = rendered(tmp_path)
    backend = stack["services"]["backend"]
    assert backend["read_only"] is True and backend["cap_drop"] == ["ALL"]
    assert {"type": "tmpfs", "target": "/tmp"} in backend["volumes"]  # Swarm ignores a tmpfs list
    assert backend["environment"]["SECRET_KEY_FILE"] == "/run/secrets/secret_key"
    assert backend["environment"]["SECRET_KEY"] == ""
    assert stack["services"]["proxy"]["configs"] == [{"source": "caddyfile", "target": "/etc/caddy/Caddyfile"}]
    ready_backends = stack["services"]["ready-backends"]
    assert ready_backends["configs"] == [{"source": "ready-backends", "target": "/usr/local/bin/ready_backends.py"}]
    assert not [v for v in ready_backends["volumes"] if v["type"] == "bind"]  # a bind needs the file on every node
    # The pooler's entrypoint writes its configuration there as uid 70 (a 1777 tmpfs on Swarm).
    assert {"type": "tmpfs", "target": "/etc/pgbouncer"} in stack["services"]["pooler"]["volumes"]


def test_updates_are_start_first_with_rollback_and_beat_is_one_stop_first(tmp_path):
    services = rendered(tmp_path)[0]["services"]
    update = services["backend"]["deploy"]["update_config"]
    assert update["order"] == "start-first" and update["failure_action"] == "rollback"
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["beat"]["deploy"]["update_config"]["order"] == "stop-first"
    for name in ("db", "redis"):
        assert services[name]["deploy"]["placement"]["constraints"] == [f"node.labels.desideliver.{name} == true"]


def test_the_script_refuses_secrets_given_as_plain_environment(tmp_path):
    env = clean_env(SECRET_KEY="a-secret-in-the-environment", STACK_NAME="desideliver-render-check")
    result = run([str(REPO_DIR / "scripts" / "swarm"), "deploy"], env=env, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: SECRET_KEY_FILE is not set: on Swarm every secret is a file (docs/DEPLOY.md)"
    )


def test_the_script_refuses_a_stack_name_whose_volumes_a_compose_project_owns(tmp_path):
    # The dev stack is the compose project "desideliver", the stack's default name: a
    # stack of that name would mount the dev database (another password) and never start.
    stack, project = "desideliver-render-check", "desideliver-render-check"
    volume = f"{stack}_postgres-data"
    run(["docker", "volume", "create", "--label", f"com.docker.compose.project={project}", volume])
    try:
        secret = tmp_path / "secret"
        secret.write_text("a-secret-value-long-enough-for-every-one-of-them-0123456789\n")
        names = ("SECRET_KEY", "DB_PASSWORD", "REDIS_PASSWORD", "SENDGRID_API_KEY")
        env = clean_env(STACK_NAME=stack, **{f"{name}_FILE": str(secret) for name in names})
        result = run([str(REPO_DIR / "scripts" / "swarm"), "deploy"], env=env, check=False)
    finally:
        run(["docker", "volume", "rm", volume])
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: volume {volume} belongs to the compose project '{project}', not to a Swarm stack:"
        " set STACK_NAME to another name"
    )
