"""What a hostile client gets from the sign-in endpoints: one account name per
address, single-use refresh tokens under concurrency, no access after a password
change, throttles that refuse early and stay on when Redis is down."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.api.concurrency import Racers, Rollback
from tests.api.conftest import PASSWORD, make_user
from tests.api.core.test_health import REDIS_DOWN, caches_with_redis_at

NEW_PASSWORD = "another-long-password-77"
LONG_S, DOTLESS_I = "\N{LATIN SMALL LETTER LONG S}", "\N{LATIN SMALL LETTER DOTLESS I}"


def login(api, email, password=PASSWORD, **meta):
    return api.post("/api/auth/login/", {"email": email, "password": password}, format="json", **meta)


@pytest.mark.django_db
def test_a_refused_request_is_not_parsed_by_the_throttles_after_the_one_that_refused(api):
    for n in range(10):
        login(api, f"guess{n}@example.in", "x", REMOTE_ADDR="203.0.113.20")
    refused = api.post(
        "/api/auth/login/", data="{not json", content_type="application/json", REMOTE_ADDR="203.0.113.20"
    )
    assert refused.status_code == 429, refused.content
    assert refused["Retry-After"]


@pytest.mark.django_db
def test_while_redis_is_down_the_sign_in_throttles_refuse_with_retry_after(api, customer, settings):
    with override_settings(CACHES=caches_with_redis_at(REDIS_DOWN, settings)):
        response = login(api, customer.email)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "access" not in response.json()


@pytest.mark.django_db
def test_every_spelling_the_database_would_fold_shares_the_accounts_throttle(api, customer):
    for n in range(10):
        login(api, customer.email, "wrong", REMOTE_ADDR=f"198.51.100.{n}")
    # U+017F (long s) is "s" to PostgreSQL's upper() and to NFKC: the same account, the same budget.
    assert login(api, customer.email.replace("s", LONG_S), REMOTE_ADDR="198.51.100.99").status_code == 429


@pytest.mark.django_db
def test_a_dotless_i_spelling_is_another_address_not_the_account(api, other_customer):
    assert "i" in other_customer.email
    assert login(api, other_customer.email.replace("i", DOTLESS_I)).status_code == 401
    assert login(api, other_customer.email.upper()).status_code == 200


@pytest.mark.django_db
def test_the_login_lookup_compares_the_stored_form_so_the_unique_index_serves_it(api, customer):
    with CaptureQueriesContext(connection) as queries:
        assert login(api, customer.email.upper()).status_code == 200
    lookups = [query["sql"] for query in queries if 'FROM "users_user"' in query["sql"] and "email" in query["sql"]]
    assert lookups
    assert not any("UPPER(" in sql for sql in lookups), lookups


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/register/", "/api/auth/password/reset/"])
def test_an_email_longer_than_the_column_is_a_field_error(api, path):
    body = {"email": "a" * 250 + "@example.in", "password": PASSWORD}
    response = api.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert "email" in response.json()


@pytest.mark.django_db
def test_password_change_is_throttled(customer_api):
    statuses = [
        customer_api.post(
            "/api/auth/password/change/",
            {"current_password": f"guess-{n}", "new_password": NEW_PASSWORD},
            format="json",
        ).status_code
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]


def _older_access_token(user) -> str:
    """An access token issued 5 s ago to an account whose password is a minute older."""
    type(user).objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(minutes=1))
    token = AccessToken.for_user(user)
    token.set_iat(at_time=timezone.now() - timedelta(seconds=5))
    return str(token)


@pytest.mark.django_db
def test_an_access_token_issued_before_a_password_change_is_refused(api, customer, customer_api):
    stolen = _older_access_token(customer)
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {stolen}").status_code == 200
    changed = customer_api.post(
        "/api/auth/password/change/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert changed.status_code == 200
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {stolen}").status_code == 401
    fresh = changed.json()["access"]
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 200


@pytest.mark.django_db
def test_a_password_set_anywhere_else_refuses_older_access_tokens_too(api, customer):
    stolen = _older_access_token(customer)
    customer.refresh_from_db()
    customer.set_password(NEW_PASSWORD)  # the admin's form, createsuperuser, a reset
    customer.save()
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {stolen}").status_code == 401


@pytest.mark.django_db
def test_a_hasher_upgrade_at_login_is_not_a_password_change(api, customer, settings):
    stolen = _older_access_token(customer)
    # The stored MD5 hash is no longer the preferred hasher's: login rehashes it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert login(api, customer.email).status_code == 200
    customer.refresh_from_db()
    assert customer.password.startswith("pbkdf2_sha256$")
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {stolen}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_six_parallel_refreshes_of_one_token_exactly_one_wins():
    user = make_user("racer@example.in")
    refresh = RefreshToken.for_user(user)
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    racers = Racers()
    barrier = threading.Lock()
    with barrier, pytest.raises(Rollback), transaction.atomic():
        # An uncommitted blacklist row for the token: every refresh passes the
        # "is it blacklisted?" read, then queues on that row's unique index entry.
        BlacklistedToken.objects.create(token=outstanding)
        for _ in range(6):
            racers.start(lambda: APIClient().post("/api/auth/refresh/", {"refresh": str(refresh)}, format="json"))
        raise Rollback
    statuses = sorted(response.status_code for response in racers.finish())
    assert statuses == [200] + [401] * 5
    assert BlacklistedToken.objects.filter(token=outstanding).count() == 1
