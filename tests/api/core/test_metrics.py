"""What the backend counts for Prometheus (desideliver_backend/metrics.py): requests by URL
view, method and status, their durations, throttle refusals and placed orders. That
the counts are summed over Gunicorn's workers, and served on an internal port only, is
shown on the running production stack (tests/stack/test_metrics.py)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from desideliver_backend.metrics import UNMATCHED
from tests.api.users.test_abuse import login

pytestmark = pytest.mark.django_db


def requests_counted(view: str, method: str = "GET", status: str = "200") -> float:
    labels = {"view": view, "method": method, "status": status}
    return REGISTRY.get_sample_value("desideliver_http_requests_total", labels) or 0.0


def requests_timed(view: str, method: str = "GET") -> float:
    labels = {"view": view, "method": method}
    return REGISTRY.get_sample_value("desideliver_http_request_duration_seconds_count", labels) or 0.0


def test_requests_are_counted_and_timed_by_view_not_by_path(api, onion, tomato):
    before, timed = requests_counted("product-detail"), requests_timed("product-detail")
    assert api.get(f"/api/products/{onion.pk}/").status_code == 200
    assert api.get(f"/api/products/{tomato.pk}/").status_code == 200
    assert requests_counted("product-detail") == before + 2
    assert requests_timed("product-detail") == timed + 2


def test_a_path_that_matches_nothing_is_one_series_whatever_the_path(api):
    before = requests_counted(UNMATCHED, status="404")
    for path in ("/wp-login.php", "/.env", "/api/nothing-here/"):
        assert api.get(path).status_code == 404
    assert requests_counted(UNMATCHED, status="404") == before + 3


def test_a_made_up_method_is_counted_as_other(api):
    before = requests_counted("product-list", method="other", status="401")
    assert api.generic("BREW", "/api/products/").status_code == 401  # unsafe, so authentication first
    assert requests_counted("product-list", method="other", status="401") == before + 1


def test_a_catalogue_read_answered_from_the_cache_is_counted_under_its_view(api, onion):
    """The catalogue cache answers before Django resolves the URL (products/catalogue_cache.py)."""
    before = requests_counted("product-list")
    for _ in range(2):  # the first fills the cache, the second is answered from it
        assert api.get("/api/products/").status_code == 200
    assert requests_counted("product-list") == before + 2


def test_the_health_probes_are_not_counted(api):
    before = requests_counted(UNMATCHED)
    assert api.get("/health/live/").status_code == 200
    assert requests_counted(UNMATCHED) == before


def test_a_request_a_throttle_refuses_is_counted_with_its_scope(api):
    def refused() -> float:
        return REGISTRY.get_sample_value("desideliver_throttled_requests_total", {"scope": "login"}) or 0.0

    before = refused()
    statuses = [login(api, f"guess{n}@example.in", "x", REMOTE_ADDR="203.0.113.41").status_code for n in range(11)]
    assert statuses.count(429) == 1
    assert refused() == before + 1


def test_an_order_is_counted_when_it_is_committed(customer_api, onion, address, django_capture_on_commit_callbacks):
    def orders() -> float:
        return REGISTRY.get_sample_value("desideliver_orders_created_total") or 0.0

    def place():
        return customer_api.post("/api/orders/create/", {"address": address.pk}, format="json")

    customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 2}, format="json")
    before = orders()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert place().status_code == 201
    assert orders() == before, "not before the transaction commits"
    for callback in callbacks:
        callback()
    assert orders() == before + 1
    # Another order from the now empty cart is refused, and not counted.
    with django_capture_on_commit_callbacks(execute=True):
        assert place().status_code == 400
    assert orders() == before + 1


def test_finished_tasks_are_counted_by_name_and_outcome(customer):
    from desideliver_backend.runtime.celery import app
    from notifications.services import email_enqueue

    def finished(outcome: str) -> float:
        labels = {"task": "notifications.tasks.outbox_sweep", "outcome": outcome}
        return REGISTRY.get_sample_value("desideliver_celery_tasks_total", labels) or 0.0

    before = finished("succeeded")
    email_enqueue(to=customer.email, recipient_verified=True, subject="Hello", body="Hi")
    app.tasks["notifications.tasks.outbox_sweep"].apply()
    assert finished("succeeded") == before + 1
    assert finished("failed") == 0


@pytest.mark.django_db(transaction=True)
def test_the_backlog_is_read_when_scraped(customer):
    """In a thread of its own with its own connection, as the metrics server's."""
    from concurrent.futures import ThreadPoolExecutor

    from prometheus_client import CollectorRegistry

    from desideliver_backend.metrics import BacklogCollector
    from desideliver_backend.runtime.celery import beat_leader, broker_queue_length
    from notifications.models import OutboxEmail

    registry = CollectorRegistry()
    registry.register(BacklogCollector(broker_queue_length, beat_leader))
    OutboxEmail.objects.create(to=customer.email, subject="Waiting", body="...")
    OutboxEmail.objects.filter(subject="Waiting").update(created_at=timezone.now() - timedelta(minutes=5))
    OutboxEmail.objects.create(to=customer.email, subject="Gave up", body="...", status=OutboxEmail.Status.FAILED)

    def scrape() -> dict:
        samples = {}
        for family in registry.collect():
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    with ThreadPoolExecutor(1) as scraper:
        samples = scraper.submit(scrape).result()
    assert samples[("desideliver_outbox_emails", (("status", "pending"),))] == 1
    assert samples[("desideliver_outbox_emails", (("status", "failed"),))] == 1
    assert samples[("desideliver_outbox_emails", (("status", "sent"),))] == 0
    assert 300 <= samples[("desideliver_outbox_oldest_unsent_seconds", ())] < 360
    assert samples[("desideliver_celery_queue_length", (("queue", "celery"),))] == 0
    assert OutboxEmail.objects.count() == 2, "the test's own connection still works"


@pytest.mark.django_db(transaction=True)
def test_the_restore_drills_recorded_by_the_backup_service_are_served():
    """The table is deploy/backup/pg-backup.sh's (drill_if_due); a label whose drills
    never passed has a failure time and no success."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from prometheus_client import CollectorRegistry

    from desideliver_backend.metrics import BackupCollector

    registry = CollectorRegistry()
    registry.register(BackupCollector())
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE backup_drill (label text PRIMARY KEY, succeeded_at timestamptz, failed_at timestamptz,"
            " restore_seconds integer, interval_seconds integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO backup_drill VALUES ('prod', now() - interval '1 hour', now(), 12, 604800),"
            " ('new', NULL, now(), NULL, 604800)"
        )
    try:
        with ThreadPoolExecutor(1) as scraper:
            samples = scraper.submit(
                lambda: {
                    (sample.name, sample.labels.get("label")): sample.value
                    for family in registry.collect()
                    for sample in family.samples
                }
            ).result()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE backup_drill")
    passed = samples[("desideliver_restore_drill_last_success_timestamp_seconds", "prod")]
    failed = samples[("desideliver_restore_drill_last_failure_timestamp_seconds", "prod")]
    assert failed - passed == pytest.approx(3600, abs=5)
    assert samples[("desideliver_restore_drill_restore_seconds", "prod")] == 12
    assert samples[("desideliver_restore_drill_interval_seconds", "prod")] == 604800
    assert ("desideliver_restore_drill_last_failure_timestamp_seconds", "new") in samples
    assert ("desideliver_restore_drill_last_success_timestamp_seconds", "new") not in samples
    assert ("desideliver_restore_drill_restore_seconds", "new") not in samples


@pytest.mark.django_db(transaction=True)
def test_the_beat_holding_the_scheduling_lock_is_served(monkeypatch):
    """Scraped in a thread of its own, as the metrics server does (the collector closes its
    connection), under a lock key of its own: the dev stack's beat holds the real one."""
    from concurrent.futures import ThreadPoolExecutor

    from django_redis import get_redis_connection
    from prometheus_client import CollectorRegistry

    from desideliver_backend.metrics import BacklogCollector
    from desideliver_backend.runtime.celery import SingleBeatScheduler, beat_leader

    monkeypatch.setattr(SingleBeatScheduler, "LOCK_KEY", f"desideliver-test:beat-leader:{uuid.uuid4().hex}")
    registry = CollectorRegistry()
    registry.register(BacklogCollector(lambda: {}, beat_leader))

    def leaders() -> dict[str, float]:
        with ThreadPoolExecutor(1) as scraper:
            families = scraper.submit(lambda: list(registry.collect())).result()
        (family,) = [family for family in families if family.name == "desideliver_beat_leader"]
        return {sample.labels["holder"]: sample.value for sample in family.samples}

    redis = get_redis_connection("default")
    redis.set(SingleBeatScheduler.LOCK_KEY, "beat-host:7:1a2b3c4d", ex=30)
    try:
        assert leaders() == {"beat-host:7:1a2b3c4d": 1}
    finally:
        redis.delete(SingleBeatScheduler.LOCK_KEY)
    assert leaders() == {}, "no holder, no series: BeatNotScheduling's absent() sees it"


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # to the broker: the point here
def test_the_broker_queue_length_counts_every_priority():
    """On the test suite's broker (a Redis database no worker reads while this runs)."""
    from desideliver_backend.runtime.celery import app, broker_queue_length

    app.control.purge()
    try:
        app.send_task("notifications.tasks.outbox_sweep")
        app.send_task("notifications.tasks.outbox_sweep", priority=6)
        assert broker_queue_length() == {"celery": 2}
    finally:
        app.control.purge()


def test_every_sql_statement_is_counted_and_timed(customer_api, onion):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> float:
        return REGISTRY.get_sample_value("desideliver_db_query_duration_seconds_count") or 0.0

    before = queries()
    with CaptureQueriesContext(connection) as captured:
        assert (
            customer_api.post("/api/cart/add/", {"product": onion.pk, "quantity": 1}, format="json").status_code < 300
        )
    assert len(captured) > 0
    assert queries() == before + len(captured)


def test_a_statement_that_fails_is_counted_too(db):
    from django.db import DatabaseError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    before = REGISTRY.get_sample_value("desideliver_db_query_duration_seconds_count") or 0.0
    with (
        CaptureQueriesContext(connection) as captured,
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table")
    assert any("no_such_table" in query["sql"] for query in captured)  # beside the savepoint statements
    assert REGISTRY.get_sample_value("desideliver_db_query_duration_seconds_count") == before + len(captured)


def test_catalogue_cache_hits_and_misses_are_counted_once_per_request(api, customer_api, onion):
    def lookups(result: str) -> float:
        labels = {"cache": "catalogue", "result": result}
        return REGISTRY.get_sample_value("desideliver_cache_lookups_total", labels) or 0.0

    hits, misses = lookups("hit"), lookups("miss")
    assert api.get(f"/api/products/{onion.pk}/").status_code == 200  # built, then stored
    assert (lookups("hit"), lookups("miss")) == (hits, misses + 1)
    assert api.get(f"/api/products/{onion.pk}/").status_code == 200  # answered by the middleware
    assert customer_api.get(f"/api/products/{onion.pk}/").status_code == 200  # by the view
    assert (lookups("hit"), lookups("miss")) == (hits + 2, misses + 1)


def test_metrics_can_be_turned_off():
    """METRICS_ENABLED=false: no request timing in the middleware chain, no SQL timing
    (the metrics port is left unserved: runtime/gunicorn_conf.py, runtime/celery.py)."""
    from tests.api.core.test_settings import run_django, settings_value

    middleware = "'desideliver_backend.middleware.metrics.MetricsMiddleware' in settings.MIDDLEWARE"
    assert run_django({}, *settings_value(middleware)).stdout.strip() == "True"
    off = run_django({"METRICS_ENABLED": "false"}, *settings_value(f"{middleware}, settings.METRICS_ENABLED"))
    assert off.stdout.strip() == "False False", off.stderr
    typo = run_django({"METRICS_ENABLED": "nope"}, "check")
    assert typo.returncode != 0 and "METRICS_ENABLED" in typo.stderr.strip().splitlines()[-1]


def test_a_new_connection_is_timed_only_when_metrics_are_on(settings):
    import types

    from django.db.backends.signals import connection_created

    for enabled, wrappers in ((False, 0), (True, 1)):
        settings.METRICS_ENABLED = enabled
        connection = types.SimpleNamespace(execute_wrappers=[])
        connection_created.send(sender=type(connection), connection=connection)
        connection_created.send(sender=type(connection), connection=connection)  # a reconnect
        assert len(connection.execute_wrappers) == wrappers
