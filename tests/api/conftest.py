"""Fixtures for the API suite: real PostgreSQL and Redis, requests through real URLs."""

from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from products.models import Category, Product
from users.models import Address, User

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def _isolated_cache():
    # The test settings give tests their own key prefix; clear only those keys.
    for alias in ("default", "catalogue"):
        caches[alias].delete_pattern("*")
    yield
    for alias in ("default", "catalogue"):
        caches[alias].delete_pattern("*")


@pytest.fixture(autouse=True)
def _catalogue_version_moves_inside_the_test_transaction(request):
    # The catalogue version moves at commit (deferred triggers, see products migration 0002).
    # A test in one rolled-back transaction never commits, so its triggers fire per statement.
    if "db" in request.fixturenames and "transactional_db" not in request.fixturenames:
        request.getfixturevalue("db")
        with connection.cursor() as cursor:
            cursor.execute(
                "SET CONSTRAINTS products_product_catalogue_version, products_category_catalogue_version IMMEDIATE"
            )
    yield


@pytest.fixture
def api():
    return APIClient()


def make_user(email: str, *, staff: bool = False) -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, full_name=email.split("@")[0].title(), is_staff=staff
    )


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def customer(db):
    return make_user("asha@example.in")


@pytest.fixture
def other_customer(db):
    return make_user("vikram@example.in")


@pytest.fixture
def staff(db):
    return make_user("ravi@desideliver.in", staff=True)


@pytest.fixture
def customer_api(customer):
    return client_for(customer)


@pytest.fixture
def other_api(other_customer):
    return client_for(other_customer)


@pytest.fixture
def staff_api(staff):
    return client_for(staff)


@pytest.fixture
def vegetables(db):
    return Category.objects.create(name="Vegetables", slug="vegetables")


@pytest.fixture
def dairy(db):
    return Category.objects.create(name="Dairy", slug="dairy", position=1)


def make_product(category: Category, name: str, price: str, stock: int = 50, **extra) -> Product:
    slug = name.lower().replace(" ", "-")
    return Product.objects.create(
        category=category, name=name, slug=slug, price=Decimal(price), unit="1 kg", stock=stock, **extra
    )


@pytest.fixture
def onion(vegetables):
    return make_product(vegetables, "Onion", "38.00", stock=10)


@pytest.fixture
def tomato(vegetables):
    return make_product(vegetables, "Tomato", "32.50", stock=5)


@pytest.fixture
def paneer(dairy):
    return make_product(dairy, "Paneer", "90.00", stock=3)


def make_address(user: User, **extra) -> Address:
    fields = {"label": "Home", "line1": "12 MG Road", "city": "Bengaluru", "state": "Karnataka", "pin_code": "560038"}
    return Address.objects.create(user=user, **{**fields, **extra})


@pytest.fixture
def address(customer):
    return make_address(customer, is_default=True)
