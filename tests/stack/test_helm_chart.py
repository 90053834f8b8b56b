"""The Helm chart, checked where no cluster can run: helm lint, helm template with
several value sets validated against the Kubernetes schemas of the versions we
support (kubernetes-validate, strict), and the rules the chart promises read from
the rendered manifests."""

import json
import os
import shutil

import kubernetes_validate
import pytest
import yaml

from tests.stack.stack import REPO_DIR, run

CHART = REPO_DIR / "deploy" / "helm" / "desideliver"
KUBERNETES_VERSIONS = ["1.29.0", "1.31.0", "1.33.0"]
SECRETS = {
    "SECRET_KEY": "k" * 50,
    "DB_PASSWORD": "a-database-password",
    "REDIS_PASSWORD": "a-redis-password-of-24-c",
    "SENDGRID_API_KEY": "SG.a-sendgrid-key",
}
VALUE_SETS = {
    "defaults": {},
    "minimal": {
        "existingSecret": "",
        "secrets": SECRETS,
        "web": {"replicas": 1, "podDisruptionBudget": {"enabled": False, "minAvailable": 1}},
        "media": {"persistence": {"enabled": False}},
        "networkPolicy": {"enabled": False},
    },
    "ha": {
        "hosts": ["api.desideliver.in", "api2.desideliver.in"],
        "web": {
            "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12, "targetCPUUtilizationPercentage": 60}
        },
        "worker": {"replicas": 3, "podDisruptionBudget": {"enabled": True, "minAvailable": 2}},
        "ingress": {"enabled": True, "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}},
        "backup": {"enabled": True, "keep": 7, "schedule": "@daily"},
        "networkPolicy": {
            "enabled": True,
            "dataServices": {"podSelectors": [{"matchLabels": {"app.kubernetes.io/name": "postgresql"}}]},
        },
    },
    "extras": {
        "database": {"sslmode": "verify-full", "caSecret": {"name": "db-ca", "key": "root.crt"}},
        "existingSecretKeys": {"DB_PASSWORD": "password"},
        "serviceAccount": {"create": True, "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/shop"}},
        "podLabels": {"team": "grocery"},
        "podAnnotations": {"example.com/owner": "shop"},
        "extraEnv": [{"name": "LOG_LEVEL", "value": "DEBUG"}],
        "extraVolumes": [{"name": "geo", "configMap": {"name": "geo-data"}}],
        "extraVolumeMounts": [{"name": "geo", "mountPath": "/srv/geo", "readOnly": True}],
        "priorityClassName": "shop-critical",
        "worker": {
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}
            ]
        },
        "backup": {"enabled": True},
    },
    "monitoring": {
        "metrics": {
            "scrapeFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
            "prometheusRule": {"enabled": True},
            "grafanaDashboards": {"enabled": True},
        }
    },
    "existing-secret": {
        "existingSecret": "shop-secrets",
        "image": {"repository": "registry.example.com/desideliver", "digest": "sha256:" + "ab" * 32},
    },
}


@pytest.fixture(scope="module")
def helm() -> str:
    binary = os.environ.get("HELM") or shutil.which("helm")
    if not binary:
        pytest.fail("helm is not installed: scripts/k8s-tools DIR, then HELM=DIR/helm", pytrace=False)
    return binary


def values_file(tmp_path, values: dict):
    path = tmp_path / "values.json"  # JSON is YAML, and helm reads it as a values file
    path.write_text(json.dumps(values))
    return path


def render(helm: str, tmp_path, values: dict, check: bool = True):
    return run(
        [helm, "template", "shop", str(CHART), "--namespace", "shop", "-f", str(values_file(tmp_path, values))],
        check=check,
    )


def manifests(helm: str, tmp_path, values: dict) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(render(helm, tmp_path, values).stdout) if doc]


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def pod_specs(documents: list[dict]) -> dict[str, dict]:
    specs = {name: doc["spec"]["template"]["spec"] for name, doc in by_kind(documents, "Deployment").items()}
    specs.update({name: doc["spec"]["template"]["spec"] for name, doc in by_kind(documents, "Job").items()})
    for name, doc in by_kind(documents, "CronJob").items():
        specs[name] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


@pytest.mark.parametrize("name", VALUE_SETS)
def test_helm_lint_passes(helm, tmp_path, name):
    result = run([helm, "lint", "--strict", str(CHART), "-f", str(values_file(tmp_path, VALUE_SETS[name]))])
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_manifests_are_valid_kubernetes_objects(helm, tmp_path, name, version):
    documents = manifests(helm, tmp_path, VALUE_SETS[name])
    assert len(documents) >= 7
    for document in documents:
        # The Prometheus Operator's kinds are not Kubernetes' own: their test is below.
        if not document["apiVersion"].startswith("monitoring.coreos.com/"):
            kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_container_runs_non_root_read_only_with_limits_and_probes(helm, tmp_path, name):
    for pod_name, pod in pod_specs(manifests(helm, tmp_path, VALUE_SETS[name])).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, pod_name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, pod_name
        assert pod["automountServiceAccountToken"] is False, pod_name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] == 1000, pod_name
            assert security["readOnlyRootFilesystem"] is True, pod_name
            assert security["allowPrivilegeEscalation"] is False, pod_name
            assert security["capabilities"] == {"drop": ["ALL"]}, pod_name
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, pod_name
            assert set(container["resources"]["limits"]) == {"cpu", "memory"}, pod_name
            assert set(container["resources"]["requests"]) == {"cpu", "memory"}, pod_name
            assert any(mount["mountPath"] == "/tmp" for mount in container["volumeMounts"]), pod_name
            if not pod_name.endswith(("-migrate", "-backup")):  # run to completion: no probes
                assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container), pod_name


def test_web_probes_readiness_and_liveness_and_drains_before_it_stops(helm, tmp_path):
    documents = manifests(helm, tmp_path, {})
    web = by_kind(documents, "Deployment")["shop-desideliver-web"]
    assert web["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    pod = web["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live/"
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    gunicorn_graceful_timeout = 30
    assert pod["terminationGracePeriodSeconds"] > pause + gunicorn_graceful_timeout
    for name in ("shop-desideliver-worker", "shop-desideliver-beat"):
        probe = by_kind(documents, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
        assert "heartbeat" in " ".join(probe["exec"]["command"]), name


def test_beat_is_exactly_one_replica_replaced_with_recreate(helm, tmp_path):
    for values in VALUE_SETS.values():
        beat = by_kind(manifests(helm, tmp_path, values), "Deployment")["shop-desideliver-beat"]
        assert beat["spec"]["replicas"] == 1
        assert beat["spec"]["strategy"] == {"type": "Recreate"}


def test_migrations_run_as_a_hook_with_copies_of_the_configuration_made_for_it(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["minimal"])
    job = by_kind(documents, "Job")["shop-desideliver-migrate"]
    hook = job["metadata"]["annotations"]
    assert hook["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["python", "manage.py", "prepare_database"]
    # A pre-install hook runs before ordinary resources exist, a pre-upgrade one before
    # they change: it reads copies that are hooks themselves, made before it (a lower
    # weight) from the same values, and deleted once the hooks succeed.
    assert container["envFrom"] == [{"configMapRef": {"name": "shop-desideliver-migrate"}}]
    assert {item["valueFrom"]["secretKeyRef"]["name"] for item in container["env"]} == {"shop-desideliver-migrate"}
    for kind in ("ConfigMap", "Secret"):
        copy, own = by_kind(documents, kind)["shop-desideliver-migrate"], by_kind(documents, kind)["shop-desideliver"]
        annotations = copy["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == hook["helm.sh/hook"]
        assert int(annotations["helm.sh/hook-weight"]) < int(hook["helm.sh/hook-weight"])
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        field = "data" if kind == "ConfigMap" else "stringData"
        assert copy[field] == own[field]
        # The release's own are ordinary resources: `helm rollback` reverts them and
        # `helm uninstall` removes them.
        assert "helm.sh/hook" not in (own["metadata"].get("annotations") or {})
    assert by_kind(documents, "ConfigMap")["shop-desideliver"]["data"]["DJANGO_MIGRATE_ON_START"] == "false"


def pod_checksums(helm, tmp_path, values: dict) -> dict[str, dict]:
    deployments = by_kind(manifests(helm, tmp_path, values), "Deployment")
    return {name: deployment["spec"]["template"]["metadata"]["annotations"] for name, deployment in deployments.items()}


@pytest.mark.parametrize(
    "change",
    [
        {"hosts": ["api.desideliver.in"]},
        {"database": {"host": "db2.example.internal"}},
        {"redis": {"url": "redis://redis2.example.internal:6379/0"}},
        {"web": {"gunicorn": {"threads": 8}}},
        {"config": {"LOG_LEVEL": "DEBUG"}},
        {"secrets": {**SECRETS, "DB_PASSWORD": "a-new-database-password"}},
    ],
    ids=["hosts", "database", "redis", "gunicorn", "config", "secret"],
)
def test_a_changed_setting_rolls_every_app_pod(helm, tmp_path, change):
    """The pods' checksums cover what their containers read, not only `config`: an
    upgrade that moves the database must not leave pods on the old one."""
    base = VALUE_SETS["minimal"]
    before = pod_checksums(helm, tmp_path, base)
    assert pod_checksums(helm, tmp_path, base) == before, "the same values render the same pods"
    after = pod_checksums(helm, tmp_path, {**base, **change})
    assert set(after) == {"shop-desideliver-web", "shop-desideliver-worker", "shop-desideliver-beat"}
    assert all(after[name] != before[name] for name in after), change


def test_an_existing_secret_is_used_and_none_is_created(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["existing-secret"])
    assert by_kind(documents, "Secret") == {}
    web = by_kind(documents, "Deployment")["shop-desideliver-web"]["spec"]["template"]["spec"]["containers"][0]
    assert {item["valueFrom"]["secretKeyRef"]["name"] for item in web["env"]} == {"shop-secrets"}
    assert web["image"] == "registry.example.com/desideliver@sha256:" + "ab" * 32


def test_high_availability_adds_autoscaling_and_disruption_budgets(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["ha"])
    assert "replicas" not in by_kind(documents, "Deployment")["shop-desideliver-web"]["spec"], "the HPA owns it"
    hpa = by_kind(documents, "HorizontalPodAutoscaler")["shop-desideliver-web"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert set(by_kind(documents, "PodDisruptionBudget")) == {"shop-desideliver-web", "shop-desideliver-worker"}
    ingress = by_kind(documents, "Ingress")["shop-desideliver"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["api.desideliver.in", "api2.desideliver.in"]


def test_a_budget_that_would_block_every_node_drain_is_not_made(helm, tmp_path):
    one = by_kind(manifests(helm, tmp_path, {"web": {"replicas": 1}}), "PodDisruptionBudget")
    assert "shop-desideliver-web" not in one, "minAvailable 1 of 1 replica: no node could ever be drained"
    two = by_kind(manifests(helm, tmp_path, {"web": {"replicas": 2}}), "PodDisruptionBudget")
    assert two["shop-desideliver-web"]["spec"]["minAvailable"] == 1


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        (
            {"web": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}},
            "web.autoscaling.minReplicas (5) is above maxReplicas (3)",
        ),
        (
            {"web": {"preStopSeconds": 30, "terminationGracePeriodSeconds": 45}},
            "web.terminationGracePeriodSeconds (45) must be longer than web.preStopSeconds (30) plus Gunicorn's 20 s",
        ),
    ],
    ids=["hpa-min-above-max", "prestop-past-the-grace-period"],
)
def test_values_that_contradict_each_other_are_refused_with_what_to_change(helm, tmp_path, values, complaint):
    result = render(helm, tmp_path, values, check=False)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_fullname_override_names_every_object(helm, tmp_path):
    documents = manifests(helm, tmp_path, {"fullnameOverride": "grocer"})
    assert all(doc["metadata"]["name"].startswith("grocer") for doc in documents), [
        doc["metadata"]["name"] for doc in documents
    ]


def test_helm_test_checks_readiness_through_the_service_and_the_notes_say_what_next(helm, tmp_path):
    documents = manifests(helm, tmp_path, {})
    (pod,) = [doc for doc in documents if doc["kind"] == "Pod"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "http://shop-desideliver:80/health/ready/" in script
    notes = run([helm, "install", "shop", str(CHART), "--dry-run=client", "--namespace", "shop"]).stdout.split(
        "NOTES:", 1
    )[1]
    assert "helm test shop -n shop" in notes
    assert "exec -it deploy/shop-desideliver-web -- python manage.py createsuperuser" in notes
    # Helm's default --timeout (5 m) is shorter than the migrate Job's deadline (600 s).
    assert "--timeout 11m" in notes


def test_network_policies_admit_only_the_app_port_and_only_the_app_to_data(helm, tmp_path):
    default = by_kind(manifests(helm, tmp_path, {}), "NetworkPolicy")["shop-desideliver-ingress"]["spec"]
    (rule,) = default["ingress"]
    assert rule == {"ports": [{"port": 8000, "protocol": "TCP"}]}, "any controller (or load balancer) may reach it"
    narrowed = {"kubernetes.io/metadata.name": "traefik"}
    values = {**VALUE_SETS["ha"], "networkPolicy": {**VALUE_SETS["ha"]["networkPolicy"]}}
    values["networkPolicy"]["ingressFrom"] = [{"namespaceSelector": {"matchLabels": narrowed}}]
    policies = by_kind(manifests(helm, tmp_path, values), "NetworkPolicy")
    ingress = policies["shop-desideliver-ingress"]["spec"]
    assert ingress["policyTypes"] == ["Ingress"]
    (rule,) = ingress["ingress"]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": narrowed}}]
    egress = policies["shop-desideliver-egress"]["spec"]
    assert egress["policyTypes"] == ["Egress"]
    allowed_ports = {port["port"] for rule in egress["egress"] for port in rule["ports"]}
    assert allowed_ports == {53, 5432, 6379, 8000}  # 8000: the web pods, for `helm test`
    destinations = [peer for rule in egress["egress"] for peer in rule["to"]]
    assert all("ipBlock" not in peer for peer in destinations), "nothing outside the cluster unless configured"
    dns = egress["egress"][0]["to"][0]
    assert dns["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    smtp = policies["shop-desideliver-smtp"]["spec"]
    assert smtp["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"
    assert [port["port"] for rule in smtp["egress"] for port in rule["ports"]] == [587]
    data = policies["shop-desideliver-data-0"]["spec"]
    assert data["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}
    (admitted,) = data["ingress"][0]["from"]
    assert admitted["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "shop"


def test_a_managed_database_and_redis_are_reached_only_at_their_configured_ranges(helm, tmp_path):
    values = {
        "database": {"cidr": "10.20.0.5/32"},
        "redis": {"cidr": "10.20.0.6/32", "cacheUrl": "redis://cache.example.internal:6379/0"},
    }
    documents = manifests(helm, tmp_path, values)
    egress = by_kind(documents, "NetworkPolicy")["shop-desideliver-egress"]["spec"]["egress"]
    blocks = {
        peer["ipBlock"]["cidr"]: rule["ports"][0]["port"] for rule in egress for peer in rule["to"] if "ipBlock" in peer
    }
    assert blocks == {"10.20.0.5/32": 5432, "10.20.0.6/32": 6379}
    config = by_kind(documents, "ConfigMap")["shop-desideliver"]["data"]
    assert config["REDIS_CACHE_URL"] == "redis://cache.example.internal:6379/0"
    assert config["REDIS_URL"] == "redis://redis.example.internal:6379/0"


GLITCHTIP_EGRESS = {"to": [{"ipBlock": {"cidr": "203.0.113.7/32"}}], "ports": [{"port": 443, "protocol": "TCP"}]}


@pytest.mark.parametrize("setting", ["SENTRY_DSN", "OTEL_EXPORTER_OTLP_ENDPOINT"])
def test_telemetry_needs_a_route_out_through_the_network_policy(helm, tmp_path, setting):
    values = {"config": {setting: "https://collector.example.com"}}
    refused = render(helm, tmp_path, values, check=False)
    assert refused.returncode != 0
    assert "add the error-tracking or trace collector's address to networkPolicy.extraEgress" in refused.stderr
    documents = manifests(helm, tmp_path, {**values, "networkPolicy": {"extraEgress": [GLITCHTIP_EGRESS]}})
    egress = by_kind(documents, "NetworkPolicy")["shop-desideliver-egress"]["spec"]["egress"]
    assert egress[-1] == GLITCHTIP_EGRESS
    assert manifests(helm, tmp_path, {**values, "networkPolicy": {"enabled": False}}), "no policy, nothing to open"


def test_error_tracking_reports_the_image_tag_as_the_release_unless_told_otherwise(helm, tmp_path):
    config = by_kind(manifests(helm, tmp_path, {}), "ConfigMap")["shop-desideliver"]["data"]
    assert config["SENTRY_DSN"] == "", "off by default"
    chart_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert config["SENTRY_RELEASE"] == str(chart_version)
    values = {
        "image": {"tag": "1.4.2"},
        "config": {"SENTRY_DSN": "https://key@glitchtip.example.com/3"},
        "networkPolicy": {"extraEgress": [GLITCHTIP_EGRESS]},
    }
    config = by_kind(manifests(helm, tmp_path, values), "ConfigMap")["shop-desideliver"]["data"]
    assert (config["SENTRY_DSN"], config["SENTRY_RELEASE"]) == ("https://key@glitchtip.example.com/3", "1.4.2")
    values = {"config": {"SENTRY_RELEASE": "desideliver@1.4.2+hotfix"}}
    config = by_kind(manifests(helm, tmp_path, values), "ConfigMap")["shop-desideliver"]["data"]
    assert config["SENTRY_RELEASE"] == "desideliver@1.4.2+hotfix"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"hosts": ["*"]}, "/hosts/0"),
        ({"web": {"replicas": 0}}, "/web/replicas"),
        ({"existingSecret": "", "secrets": {**SECRETS, "SECRET_KEY": "short"}}, "/secrets/SECRET_KEY"),
        ({"config": {"SECRET_KEY": "in-a-configmap"}}, "invalid propertyName 'SECRET_KEY'"),
        ({"image": {"repository": "x", "pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"webb": {"replicas": 2}}, "webb"),
        ({"media": {"storage": "gcs"}}, "/media/storage"),
        ({"media": {"s3": {"bucket": "Shop_Media"}}}, "/media/s3/bucket"),
        ({"media": {"s3": {"endpointUrl": "s3.example.net"}}}, "/media/s3/endpointUrl"),
    ],
)
def test_a_bad_values_file_is_refused_naming_what_is_wrong(helm, tmp_path, values, complaint):
    result = render(helm, tmp_path, values, check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert complaint in result.stderr, result.stderr


def test_backups_run_the_same_checked_script_as_the_compose_service(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["ha"])
    cron = by_kind(documents, "CronJob")["shop-desideliver-backup"]
    assert cron["spec"]["schedule"] == "@daily" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    script = by_kind(documents, "ConfigMap")["shop-desideliver-backup"]["data"]["pg-backup.sh"]
    assert script == (REPO_DIR / "deploy" / "backup" / "pg-backup.sh").read_text()
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "BACKUP_KEEP", "value": "7"} in container["env"]
    assert by_kind(manifests(helm, tmp_path, {}), "CronJob") == {}, "off unless asked for"


def configmap(documents: list[dict]) -> dict:
    return by_kind(documents, "ConfigMap")["shop-desideliver"]["data"]


def web_container(documents: list[dict]) -> dict:
    return by_kind(documents, "Deployment")["shop-desideliver-web"]["spec"]["template"]["spec"]


def test_media_in_s3_by_default_means_no_volume_and_egress_to_the_endpoint_from_web_only(helm, tmp_path):
    documents = manifests(
        helm, tmp_path, {"media": {"s3": {"bucket": "shop-media", "endpointUrl": "https://s3.example.net"}}}
    )
    config = configmap(documents)
    assert config["MEDIA_STORAGE"] == "s3" and config["SERVE_MEDIA"] == "false"
    assert config["MEDIA_S3_BUCKET"] == "shop-media" and config["MEDIA_S3_ENDPOINT_URL"] == "https://s3.example.net"
    assert "PersistentVolumeClaim" not in {doc["kind"] for doc in documents}
    pod = web_container(documents)
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp"]
    assert all(mount["mountPath"] != "/app/media" for mount in pod["containers"][0]["volumeMounts"])
    # The pod's own identity signs requests: no key in the environment.
    assert "MEDIA_S3_SECRET_ACCESS_KEY" not in {item["name"] for item in pod["containers"][0]["env"]}
    media = by_kind(documents, "NetworkPolicy")["shop-desideliver-media"]["spec"]
    assert media["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    assert media["egress"] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    ]


def test_an_s3_key_pair_goes_in_the_secret_and_only_its_secret_half(helm, tmp_path):
    values = {
        "existingSecret": "",
        "secrets": SECRETS,
        "media": {"s3": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG"}},
    }
    documents = manifests(helm, tmp_path, values)
    assert by_kind(documents, "Secret")["shop-desideliver"]["stringData"]["MEDIA_S3_SECRET_ACCESS_KEY"] == (
        "wJalrXUtnFEMI/K7MDENG"
    )
    assert configmap(documents)["MEDIA_S3_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert "wJalrXUtnFEMI" not in json.dumps(by_kind(documents, "ConfigMap"))
    env = {item["name"]: item for item in web_container(documents)["containers"][0]["env"]}
    assert env["MEDIA_S3_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "shop-desideliver",
        "key": "MEDIA_S3_SECRET_ACCESS_KEY",
    }
    half = {**values, "media": {"s3": {"accessKeyId": "AKIAEXAMPLE"}}}
    refused = render(helm, tmp_path, half, check=False)
    assert refused.returncode != 0
    assert "media.s3.secretAccessKey is empty while media.s3.accessKeyId is set" in refused.stderr
    # With an existing Secret, the key is read from it.
    existing = manifests(helm, tmp_path, {"media": {"s3": {"accessKeyId": "AKIAEXAMPLE"}}})
    env = {item["name"]: item for item in web_container(existing)["containers"][0]["env"]}
    assert env["MEDIA_S3_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "desideliver-secrets"


def test_media_on_a_volume_is_served_by_django_since_no_edge_serves_it(helm, tmp_path):
    documents = manifests(helm, tmp_path, {"media": {"storage": "local"}})
    config = configmap(documents)
    assert config["MEDIA_STORAGE"] == "local" and config["SERVE_MEDIA"] == "true"
    assert "MEDIA_S3_BUCKET" not in config
    assert by_kind(documents, "PersistentVolumeClaim")["shop-desideliver-media"]["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    pod = web_container(documents)
    assert {"name": "media", "mountPath": "/app/media"} in pod["containers"][0]["volumeMounts"]
    assert "shop-desideliver-media" not in by_kind(documents, "NetworkPolicy")


def test_the_extras_reach_every_app_pod_and_the_database_ca_the_backup_too(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["extras"])
    (account,) = by_kind(documents, "ServiceAccount").values()
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/shop"}
    assert account["automountServiceAccountToken"] is False
    deployments = by_kind(documents, "Deployment")
    pods = pod_specs(documents)
    for name, pod in pods.items():
        container = pod["containers"][0]
        env = {item["name"]: item for item in container.get("env", [])}
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert pod["priorityClassName"] == "shop-critical", name
        assert mounts["database-ca"] == "/etc/desideliver/database-ca", name
        assert volumes["database-ca"]["secret"]["secretName"] == "db-ca", name
        if name.endswith("-backup"):
            assert env["PGSSLMODE"]["value"] == "verify-full"
            assert env["PGSSLROOTCERT"]["value"] == "/etc/desideliver/database-ca/root.crt"
            assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "password"
            continue
        assert env["DB_SSLMODE"]["value"] == "verify-full", name
        assert env["DB_SSLROOTCERT"]["value"] == "/etc/desideliver/database-ca/root.crt", name
        assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "password", name
        assert env["SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "SECRET_KEY", name
        assert env["LOG_LEVEL"]["value"] == "DEBUG", name
        assert mounts["geo"] == "/srv/geo" and volumes["geo"]["configMap"]["name"] == "geo-data", name
    for name, deployment in deployments.items():
        template = deployment["spec"]["template"]
        assert template["metadata"]["labels"]["team"] == "grocery", name
        assert template["metadata"]["annotations"]["example.com/owner"] == "shop", name
        assert "checksum/config" in template["metadata"]["annotations"], name
        assert template["spec"]["serviceAccountName"] == "shop-desideliver", name
    # The migrate Job runs before the ServiceAccount exists (a pre-install hook): the namespace's default.
    assert "serviceAccountName" not in pods["shop-desideliver-migrate"]
    spread = deployments["shop-desideliver-worker"]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread == [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": deployments["shop-desideliver-worker"]["spec"]["selector"]["matchLabels"]},
        }
    ]
    # The web pods spread over nodes by default.
    web = deployments["shop-desideliver-web"]["spec"]
    assert web["template"]["spec"]["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert (
        web["template"]["spec"]["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
        == web["selector"]["matchLabels"]
    )


def test_an_httproute_sends_the_hosts_to_the_service_through_the_named_gateway(helm, tmp_path):
    values = {
        "hosts": ["api.desideliver.in"],
        "httpRoute": {"enabled": True, "parentRefs": [{"name": "shop", "namespace": "gateways"}]},
    }
    documents = manifests(helm, tmp_path, values)
    (route,) = by_kind(documents, "HTTPRoute").values()
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "shop", "namespace": "gateways"}]
    assert route["spec"]["hostnames"] == ["api.desideliver.in"]
    (service,) = by_kind(documents, "Service").values()
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {"name": service["metadata"]["name"], "port": service["spec"]["ports"][0]["port"]}
    ]
    refused = render(helm, tmp_path, {"httpRoute": {"enabled": True}}, check=False)
    assert refused.returncode != 0
    assert "httpRoute.parentRefs is empty" in refused.stderr


def test_behind_a_pooler_the_migrations_and_the_backup_reach_postgresql_itself(helm, tmp_path):
    values = {
        "database": {"host": "pgbouncer.db", "port": 6432, "directHost": "postgres.db", "directPort": 5432},
        "backup": {"enabled": True},
    }
    documents = manifests(helm, tmp_path, values)
    config = configmap(documents)
    assert (config["DB_HOST"], config["DB_PORT"]) == ("pgbouncer.db", "6432")
    assert (config["DB_DIRECT_HOST"], config["DB_DIRECT_PORT"]) == ("postgres.db", "5432")
    assert config["DB_STATEMENT_TIMEOUT"] == "30"
    (cronjob,) = by_kind(documents, "CronJob").values()
    (backup,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in backup["env"]}
    assert (env["PGHOST"], env["PGPORT"]) == ("postgres.db", "5432")
    plain = configmap(manifests(helm, tmp_path, {}))
    assert "DB_DIRECT_HOST" not in plain


def test_the_prometheus_rule_is_the_compose_stacks_rule_file(helm, tmp_path):
    (rule,) = by_kind(manifests(helm, tmp_path, VALUE_SETS["monitoring"]), "PrometheusRule").values()
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load((REPO_DIR / "deploy" / "monitoring" / "alerts.yml").read_text())


def test_the_dashboards_are_the_compose_stacks_dashboards_for_grafanas_sidecar(helm, tmp_path):
    folder = REPO_DIR / "deploy" / "monitoring" / "grafana" / "dashboards"
    maps = {
        name: config
        for name, config in by_kind(manifests(helm, tmp_path, VALUE_SETS["monitoring"]), "ConfigMap").items()
        if name.startswith("shop-desideliver-dashboard-")
    }
    assert sorted(maps) == sorted(f"shop-desideliver-dashboard-{path.stem}" for path in folder.glob("*.json"))
    for config in maps.values():
        assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((name, text),) = config["data"].items()
        assert json.loads(text) == json.loads((folder / name).read_text())
    assert not any(
        name.startswith("shop-desideliver-dashboard-") for name in by_kind(manifests(helm, tmp_path, {}), "ConfigMap")
    )


def test_the_service_monitor_scrapes_every_web_and_worker_pod_under_the_compose_stacks_job_names(helm, tmp_path):
    documents = manifests(helm, tmp_path, VALUE_SETS["monitoring"])
    (monitor,) = by_kind(documents, "ServiceMonitor").values()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "interval": "30s"}]
    selected = {
        name: service
        for name, service in by_kind(documents, "Service").items()
        if monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    }
    jobs = {service["metadata"]["labels"][monitor["spec"]["jobLabel"]]: service for service in selected.values()}
    assert set(jobs) == {"backend", "worker"}, "the job names deploy/monitoring/alerts.yml reads"
    specs = pod_specs(documents)
    for job, component in (("backend", "web"), ("worker", "worker")):
        service = jobs[job]["spec"]
        assert service["clusterIP"] == "None" and service["selector"]["app.kubernetes.io/component"] == component
        assert service["ports"] == [{"name": "metrics", "port": 9100, "targetPort": "metrics"}]
        (container,) = specs[f"shop-desideliver-{component}"]["containers"]
        assert {"name": "metrics", "containerPort": 9100} in container["ports"]
    config = by_kind(documents, "ConfigMap")["shop-desideliver"]["data"]
    assert config["METRICS_PORT"] == "9100"


def test_the_metrics_port_is_open_only_to_the_named_prometheus(helm, tmp_path):
    default = by_kind(manifests(helm, tmp_path, {}), "NetworkPolicy")["shop-desideliver-ingress"]["spec"]
    assert [port["port"] for rule in default["ingress"] for port in rule["ports"]] == [8000]
    policies = by_kind(manifests(helm, tmp_path, VALUE_SETS["monitoring"]), "NetworkPolicy")
    web, metrics = policies["shop-desideliver-ingress"]["spec"]["ingress"]
    assert web["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert metrics == {
        "from": VALUE_SETS["monitoring"]["metrics"]["scrapeFrom"],
        "ports": [{"port": 9100, "protocol": "TCP"}],
    }


def test_a_service_monitor_behind_a_network_policy_needs_to_know_its_prometheus(helm, tmp_path):
    values = {"metrics": {"serviceMonitor": {"enabled": True}}}
    refused = render(helm, tmp_path, values, check=False)
    assert refused.returncode != 0
    assert (
        "metrics.scrapeFrom is empty: the NetworkPolicy would keep Prometheus from the metrics port" in refused.stderr
    )
