"""Public reads answer hostile query strings with 200, 400 or 404, never 500."""

import pytest

pytestmark = pytest.mark.django_db

PUBLIC_LISTS = ["/api/products/", "/api/categories/"]
HOSTILE_QUERIES = [
    "category=%C2%B2",  # "²": a digit to str.isdigit(), not to int()
    "category=%D9%A3",  # Arabic-Indic three
    "category=99999999999999999999999999",
    "category=-1",
    "search=%00",
    "search=onion%00drop",
    "%00=1",
    "ordering=%00",
    "ordering=password",
    "ordering=-user__password",
    "ordering=category__name,,--price",
    "page=99999999999999999999999",
    "page=-1",
    "page=%C2%B2",
    "page_size=100000000",
    "format=xml",
]


@pytest.mark.parametrize("path", PUBLIC_LISTS)
@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_strings_never_crash_a_public_list(api, onion, path, query):
    response = api.get(f"{path}?{query}")
    assert response.status_code in {200, 400, 404}, response.content[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/99999999999999999999999999/",
        "/api/products/%C2%B2/",
        "/api/products/1%00/",
        "/api/categories/99999999999999999999999999/",
        "/api/products/%00/",
    ],
)
def test_hostile_ids_are_not_found(api, onion, path):
    assert api.get(path).status_code in {400, 404}


def test_a_nul_byte_is_a_clear_400(api, onion):
    response = api.get("/api/products/?search=on%00ion")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_unicode_digits_are_a_slug_not_an_id(api, onion):
    response = api.get("/api/products/?category=%C2%B2")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_nul_in_a_json_body_is_a_field_error(customer_api):
    response = customer_api.post("/api/tickets/", {"subject": "a\x00b", "message": "hello"}, format="json")
    assert response.status_code == 400
    assert "subject" in response.json()


DEEP = "[" * 100_000


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [("/api/auth/login/", False), ("/api/auth/register/", False), ("/api/tickets/", True), ("/api/cart/add/", True)],
)
def test_a_deeply_nested_json_body_is_a_400(api, customer_api, path, authenticated):
    client = customer_api if authenticated else api
    response = client.post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested" in response.json()["detail"]


def test_the_schema_is_built_once_per_process_and_throttled(api, settings):
    from desideliver_backend.schema import _built_schema

    _built_schema.cache_clear()
    accept = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json", "REMOTE_ADDR": "198.51.100.30"}
    first, second = api.get("/api/schema/", **accept), api.get("/api/schema/", **accept)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert _built_schema.cache_info().misses == 1
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["schema"].split("/")[0])
    statuses = [api.get("/api/schema/", **accept).status_code for _ in range(rate)]
    assert statuses[-1] == 429
