"""X-Forwarded-* are believed only from TRUSTED_PROXIES; the client address is the real client's."""

import pytest
from django.test import RequestFactory

from desideliver_backend.middleware.proxies import TrustedProxyMiddleware

PROXY = "172.18.0.1"
FORWARDED = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7"}


def through_middleware(remote_addr: str, **headers):
    request = RequestFactory().get("/api/products/", REMOTE_ADDR=remote_addr, **headers)
    return TrustedProxyMiddleware(lambda seen: seen)(request)


@pytest.fixture(autouse=True)
def _trusted(settings):
    settings.TRUSTED_PROXIES = [f"{PROXY}/32", "10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_a_client_cannot_claim_https_or_another_address():
    request = through_middleware("203.0.113.9", **FORWARDED)
    assert not request.is_secure()
    assert request.META["REMOTE_ADDR"] == "203.0.113.9"
    assert "x-forwarded-for" not in request.headers


def test_from_the_proxy_the_client_is_the_address_it_appended():
    # 6.6.6.6 was written by the client itself; the proxy appended the address it saw.
    request = through_middleware(PROXY, **FORWARDED)
    assert request.is_secure()
    assert request.META["REMOTE_ADDR"] == "198.51.100.7"


def test_chained_trusted_proxies_are_skipped():
    request = through_middleware(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7, 10.1.2.3")
    assert request.META["REMOTE_ADDR"] == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_proxy_address():
    request = through_middleware(PROXY, HTTP_X_FORWARDED_FOR="<script>")
    assert request.META["REMOTE_ADDR"] == PROXY
