"""The production stack's `monitoring` profile (deploy/monitoring/): Prometheus scrapes
every target, sees an order and its email move the counters, and evaluates the alert
rules on real series; every Grafana panel's query returns series from it; Alertmanager
emails an alert to the operator through a real SMTP server; promtool accepts the
configuration and the rules' unit tests pass."""

import json
import urllib.parse
import uuid

import pytest

from tests.stack.smtp_sink import SmtpServer
from tests.stack.stack import REPO_DIR, gateway_of, http, place_order, run, wait_for

MONITORING = ["prometheus", "alertmanager", "postgres-exporter", "redis-exporter", "blackbox-exporter", "node-exporter"]
JOBS = {"backend", "worker", "edge", "postgres", "redis", "certificate", "node", "alertmanager", "prometheus"}
OPERATOR = "ops@example.test"
DASHBOARDS = sorted((REPO_DIR / "deploy" / "monitoring" / "grafana" / "dashboards").glob("*.json"))
# Grafana's own variables, as it fills them for this Prometheus's 15 s scrape interval.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prometheus(prod_stack, smtp):
    """The profile's services, Alertmanager sending to ``smtp``; removed afterwards."""
    env = {
        **prod_stack.env,
        "ALERT_EMAIL_TO": OPERATOR,
        "ALERT_GROUP_WAIT": "1s",
        "EMAIL_HOST": gateway_of(prod_stack.inspect("proxy")),
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "false",
    }
    prod_stack.compose("--profile", "monitoring", "up", "--detach", "--wait", "--no-deps", *MONITORING, env=env,
                       timeout=600)  # fmt: skip
    yield f"http://127.0.0.1:{prod_stack.extra_env['PROMETHEUS_PORT']}"
    # The rest of the stack's tests need the CPU more than a Prometheus nobody reads.
    prod_stack.compose("--profile", "monitoring", "rm", "--stop", "--force", *MONITORING)


def api(prometheus: str, path: str, **query) -> dict:
    response = http("GET", f"{prometheus}/api/v1/{path}?{urllib.parse.urlencode(query)}")
    assert response.status == 200, response.body
    return json.loads(response.body)["data"]


def value(prometheus: str, promql: str) -> float | None:
    result = api(prometheus, "query", query=promql)["result"]
    return float(result[0]["value"][1]) if result else None


def alert_states(prometheus: str) -> dict[str, str]:
    return {alert["labels"]["alertname"]: alert["state"] for alert in api(prometheus, "alerts")["alerts"]}


def test_every_target_is_scraped(prometheus):
    def targets() -> dict[str, set[str]]:
        health: dict[str, set[str]] = {}
        for target in api(prometheus, "targets")["activeTargets"]:
            health.setdefault(target["labels"]["job"], set()).add(target["health"])
        return health

    wait_for(lambda: targets() == {job: {"up"} for job in JOBS}, timeout=120, what=f"every target up: {JOBS}")
    assert value(prometheus, "pg_up") == 1
    # Both Redis instances, each with the password and the maxmemory the stack gave it.
    assert value(prometheus, 'redis_up{instance="redis"}') == value(prometheus, 'redis_up{instance="cache"}') == 1
    assert value(prometheus, 'redis_memory_max_bytes{instance="redis"}') == 200 * 1024 * 1024
    assert value(prometheus, 'redis_memory_max_bytes{instance="cache"}') == 192 * 1024 * 1024
    # The certificate the edge serves under the stack's name (Caddy's own CA here), and the
    # server's root filesystem.
    assert value(prometheus, 'probe_success{job="certificate"}') == 1
    expires_in = value(prometheus, 'probe_ssl_earliest_cert_expiry{job="certificate"} - time()')
    assert 0 < expires_in < 14 * 86400, "hours, from Caddy's own CA: the case CertificateExpiresSoon leaves out"
    assert value(prometheus, 'count(probe_ssl_last_chain_info{issuer=~".*Caddy Local Authority.*"})') == 1
    assert value(prometheus, 'node_filesystem_avail_bytes{mountpoint="/"}') > 0
    # The stack's one beat holds the scheduling lock, as the worker reads it from Redis.
    wait_for(lambda: value(prometheus, "count(desideliver_beat_leader == 1)") == 1, timeout=60, what="the beat leading")
    assert value(prometheus, "sum(caddy_http_requests_total)") is not None, "the edge's own metrics"


def test_an_order_and_its_email_move_the_counters(prometheus, prod_stack, shopper):
    # The backend's series: the worker exports the counter too (at 0), and a wait satisfied
    # by it took the backend's first scrape, every order before this test's, for the +1.
    orders = 'sum(desideliver_orders_created_total{job="backend"})'
    emails = 'sum(desideliver_celery_tasks_total{task="notifications.tasks.send_outbox_email",outcome="succeeded"})'
    wait_for(lambda: value(prometheus, orders) is not None, timeout=60, what="the backend scraped")
    before_orders, before_emails = value(prometheus, orders), value(prometheus, emails) or 0.0
    status, _ = place_order(prod_stack, shopper)
    assert status == 201
    wait_for(lambda: value(prometheus, orders) == before_orders + 1, timeout=60, what="the order counted")
    wait_for(lambda: (value(prometheus, emails) or 0.0) >= before_emails + 1, timeout=60, what="its email counted")


def panel_queries() -> list[tuple[str, str]]:
    queries = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for variable, replacement in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, replacement)
                queries.append((f"{path.stem}: {panel['title']} ({target['refId']})", expr))
    return queries


def test_every_dashboard_panel_query_returns_series(prometheus, prod_stack, shopper):
    """What Grafana would draw, asked of the stack's Prometheus: a query Prometheus refuses
    fails in api(), a metric renamed or never scraped leaves its panel empty."""
    # A scheduled backup, as production takes them (its first run is at start).
    prod_stack.compose(
        "--profile", "backup", "up", "--detach", "backup", env={**prod_stack.env, "BACKUP_INTERVAL": "3600"}
    )
    try:
        for series in (
            "desideliver_backup_last_success_timestamp_seconds",
            "desideliver_restore_drill_last_success_timestamp_seconds",
        ):  # the first run drills
            wait_for(lambda: value(prometheus, f"max({series})") is not None,  # noqa: B023 (called at once)
                     timeout=120, what=f"{series} scraped")  # fmt: skip
    finally:
        prod_stack.compose("--profile", "backup", "rm", "--stop", "--force", "backup")
    # Requests after the backup's `up`, which may have recreated the backend (when an earlier
    # module left it on other settings): a new backend has no request series until one comes.
    for _ in range(2):  # the catalogue cache: a miss, then a hit
        assert http("GET", prod_stack.url("/api/products/")).status == 200
    queries, empty = panel_queries(), []

    def every_panel_has_series() -> bool:
        empty[:] = [title for title, expr in queries if not api(prometheus, "query", query=expr)["result"]]
        return not empty

    assert len(queries) >= 30
    try:
        wait_for(every_panel_has_series, timeout=60, what="every panel's series")
    except AssertionError:
        raise AssertionError(f"panels with no series: {empty}") from None


def test_the_rules_are_evaluated_on_the_stacks_series(prometheus, prod_stack):
    """With the worker stopped, WorkerDown goes pending (it fires after its `for:`, which
    alerts.test.yml shows), and clears when the worker is back."""
    rules = {rule["name"] for group in api(prometheus, "rules")["groups"] for rule in group["rules"]}
    assert {"WorkerDown", "BackendDown", "HighServerErrorRatio", "OutboxStuck", "PostgresDown"} <= rules
    assert "WorkerDown" not in alert_states(prometheus)
    prod_stack.compose("stop", "worker")
    try:
        try:
            wait_for(lambda: alert_states(prometheus).get("WorkerDown") in {"pending", "firing"}, timeout=120,
                     what="WorkerDown pending")  # fmt: skip
        except AssertionError as failure:
            workers = [t for t in api(prometheus, "targets")["activeTargets"] if t["labels"]["job"] == "worker"]
            raise AssertionError(f"{failure}\nworker targets: {workers}\nalerts: {alert_states(prometheus)}") from None
    finally:
        prod_stack.up("worker")
    wait_for(lambda: "WorkerDown" not in alert_states(prometheus), timeout=120, what="WorkerDown cleared")


def test_alertmanager_emails_an_alert_to_the_operator(prometheus, prod_stack, smtp):
    wait_for(lambda: api(prometheus, "alertmanagers")["activeAlertmanagers"], timeout=60,
             what="Prometheus to know its Alertmanager")  # fmt: skip
    name = f"StackSuiteProbe{uuid.uuid4().hex[:8]}"
    alert = [{"labels": {"alertname": name, "severity": "warning"}, "annotations": {"summary": "a probe"}}]
    prod_stack.exec("alertmanager", "wget", "-q", "-O", "-", "--header", "Content-Type: application/json",
                    "--post-data", json.dumps(alert), "http://127.0.0.1:9093/api/v2/alerts")  # fmt: skip
    wait_for(lambda: smtp.sink.message_ids(name), timeout=60, what="the alert's email")
    sent = next(message for message in smtp.sink.received if name in (message["Subject"] or ""))
    assert sent["To"] == OPERATOR
    assert "FIRING" in sent["Subject"]


def test_promtool_accepts_the_config_and_the_rules_unit_tests_pass():
    """No stack needed: it runs beside the production stacks' groups, not in one."""
    image = pinned_image("prometheus")
    folder = REPO_DIR / "deploy" / "monitoring"
    # One container for both: each start costs seconds on a loaded machine.
    both = "promtool check config /etc/prometheus/prometheus.yml && promtool test rules /etc/prometheus/alerts.test.yml"
    mount = f"{folder}:/etc/prometheus:ro"
    checked = run(["docker", "run", "--rm", "-v", mount, "--entrypoint", "sh", image, "-c", both], check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "is valid prometheus config file syntax" in checked.stdout + checked.stderr
    assert "Unit Testing:  /etc/prometheus/alerts.test.yml\n  SUCCESS" in checked.stdout + checked.stderr


def pinned_image(service: str) -> str:
    """The image compose.images.yml gives a service (a stand-in where *_IMAGE says so)."""
    images = json.loads(run(["docker", "compose", "-f", "compose.images.yml", "config", "--format", "json"]).stdout)
    return images["services"][service]["image"]


def start_script_refusal(service: str, script: str, setting: str) -> str:
    """The one line deploy/monitoring/SCRIPT stops with in SERVICE's image, given SETTING (NAME=value)."""
    path = REPO_DIR / "deploy" / "monitoring" / script
    refused = run(["docker", "run", "--rm", "-e", setting, "-v", f"{path}:/start.sh:ro", "--entrypoint", "sh",
                   pinned_image(service), "/start.sh"], check=False)  # fmt: skip
    assert refused.returncode == 1, refused.stdout + refused.stderr
    return refused.stderr.strip()


def test_alertmanager_refuses_a_setting_that_would_break_its_configuration():
    assert start_script_refusal("alertmanager", "alertmanager.sh", 'ALERT_EMAIL_TO=ops@example.test", "x') == (
        'configuration error: ALERT_EMAIL_TO must not contain " or \\ (see deploy/production.env.example)'
    )


def test_the_certificate_probe_refuses_a_domain_that_is_not_one_host_name():
    refusal = start_script_refusal(
        "blackbox-exporter", "blackbox.sh", "CERT_PROBE_NAME=api.example.com, www.example.com"
    )
    assert refusal == (
        "configuration error: CERT_PROBE_NAME (DOMAIN) must be one host name, got 'api.example.com, www.example.com' "
        "(see deploy/production.env.example)"
    )
