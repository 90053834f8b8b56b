"""Refresh tokens rotate and can be revoked; passwords change and reset by emailed link;
sign-in endpoints are throttled per client address and per account, in Redis."""

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-password-77"


def login(api, email, password=PASSWORD, **request_meta):
    return api.post("/api/auth/login/", {"email": email, "password": password}, format="json", **request_meta)


def refresh(api, token):
    return api.post("/api/auth/refresh/", {"refresh": token}, format="json")


def test_a_refresh_token_works_once_and_rotates(api, customer):
    first = login(api, customer.email).json()["refresh"]
    rotated = refresh(api, first)
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first
    assert refresh(api, first).status_code == 401  # replaying the old one
    assert refresh(api, rotated.json()["refresh"]).status_code == 200


def test_logout_revokes_the_refresh_token(api, customer):
    token = login(api, customer.email).json()["refresh"]
    assert api.post("/api/auth/logout/", {"refresh": token}, format="json").status_code == 200
    assert refresh(api, token).status_code == 401


def test_changing_the_password_revokes_every_refresh_token(api, customer):
    phone, laptop = (login(api, customer.email).json() for _ in range(2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    wrong = client.post(
        "/api/auth/password/change/", {"current_password": "nope", "new_password": NEW_PASSWORD}, format="json"
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()
    changed = client.post(
        "/api/auth/password/change/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert changed.status_code == 200
    assert refresh(api, phone["refresh"]).status_code == 401
    assert refresh(api, laptop["refresh"]).status_code == 401
    assert refresh(api, changed.json()["refresh"]).status_code == 200
    assert login(api, customer.email, NEW_PASSWORD).status_code == 200


def reset_link_parts() -> dict[str, str]:
    (message,) = mail.outbox
    uid, token = re.search(r"\?uid=([^&\s]+)&token=(\S+)", message.body).groups()
    return {"uid": uid, "token": token}


def test_password_reset_by_emailed_link(api, customer, django_capture_on_commit_callbacks):
    old = login(api, customer.email).json()["refresh"]
    with django_capture_on_commit_callbacks(execute=True):
        asked = api.post("/api/auth/password/reset/", {"email": customer.email.upper()}, format="json")
    assert asked.status_code == 202
    assert mail.outbox[0].to == [customer.email]
    link = reset_link_parts()
    done = api.post("/api/auth/password/reset/confirm/", {**link, "new_password": NEW_PASSWORD}, format="json")
    assert done.status_code == 200, done.content
    assert login(api, customer.email, NEW_PASSWORD).status_code == 200
    assert refresh(api, old).status_code == 401
    again = api.post(
        "/api/auth/password/reset/confirm/", {**link, "new_password": "yet-another-pass-99"}, format="json"
    )
    assert again.status_code == 400
    assert "token" in again.json()


def test_password_reset_says_the_same_for_unknown_addresses_and_sends_nothing(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/auth/password/reset/", {"email": "nobody@example.in"}, format="json")
    assert response.status_code == 202
    assert mail.outbox == []


@pytest.mark.parametrize(
    "link", [{"uid": "garbage", "token": "x"}, {"uid": "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0", "token": "x-y"}]
)
def test_a_forged_reset_link_is_a_400(api, customer, link):
    response = api.post("/api/auth/password/reset/confirm/", {**link, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 400
    assert "token" in response.json()


def test_login_is_throttled_per_account_across_addresses(api, customer, settings):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    for attempt in range(rate):
        # A proxy-less request: REMOTE_ADDR is the client; each guess from a new address.
        assert login(api, customer.email, "wrong", REMOTE_ADDR=f"198.51.100.{attempt}").status_code == 401
    blocked = login(api, customer.email, PASSWORD, REMOTE_ADDR="198.51.100.250")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert login(api, "someone-else@example.in", "x", REMOTE_ADDR="198.51.100.251").status_code == 401


def test_login_is_throttled_per_client_address_across_accounts(api, customer):
    statuses = [login(api, f"guess{n}@example.in", "x", REMOTE_ADDR="203.0.113.5").status_code for n in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert login(api, customer.email, REMOTE_ADDR="203.0.113.6").status_code == 200


def test_a_spoofed_forwarded_for_does_not_escape_the_address_throttle(api, settings):
    settings.TRUSTED_PROXIES = []  # nothing in front: X-Forwarded-For is the client's own words
    statuses = [
        login(api, f"g{n}@example.in", "x", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}").status_code
        for n in range(11)
    ]
    assert statuses[-1] == 429


def test_registration_and_password_reset_are_throttled(api, settings, django_capture_on_commit_callbacks):
    register_rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["register"].split("/")[0])
    for n in range(register_rate):
        body = {"email": f"new{n}@example.in", "password": PASSWORD}
        assert api.post("/api/auth/register/", body, format="json", REMOTE_ADDR="192.0.2.1").status_code == 201
    over = api.post(
        "/api/auth/register/",
        {"email": "one-more@example.in", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="192.0.2.1",
    )
    assert over.status_code == 429
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            api.post("/api/auth/password/reset/", {"email": "new0@example.in"}, format="json", REMOTE_ADDR="192.0.2.2")
    assert api.post("/api/auth/password/reset/", {"email": "new0@example.in"}, format="json").status_code == 429
    assert len(mail.outbox) == 5


def test_the_new_endpoints_are_in_the_schema(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in ["logout", "password/change", "password/reset", "password/reset/confirm"]:
        assert f"/api/auth/{path}/" in paths, path
