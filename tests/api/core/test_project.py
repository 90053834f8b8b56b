import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from products.models import Category, Product
from users.models import User

pytestmark = pytest.mark.django_db

REPO_DIR = Path(__file__).resolve().parents[3]


def test_migrations_match_the_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ["/api/auth/login/", "/api/products/", "/api/cart/add/", "/api/orders/create/", "/api/tickets/"]:
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_cors_header_only_for_listed_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.desideliver.in"]
    allowed = client.get("/api/products/", HTTP_ORIGIN="https://app.desideliver.in")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.desideliver.in"
    refused = client.get("/api/products/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused


def test_seed_demo_is_idempotent_and_gives_a_working_login(client):
    call_command("seed_demo", stdout=StringIO())
    counts = (Category.objects.count(), Product.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Category.objects.count(), Product.objects.count(), User.objects.count()) == counts
    assert counts[1] >= 20
    login = client.post(
        "/api/auth/login/",
        {"email": "demo@desideliver.in", "password": "desideliver-demo"},
        content_type="application/json",
    )
    assert login.status_code == 200


def test_admin_lists_adds_and_changes_every_model(admin_client, customer, address, onion):
    from django.contrib import admin
    from django.contrib.auth.models import Group
    from django.urls import reverse
    from rest_framework_simplejwt.tokens import RefreshToken

    from cart.services import cart_add
    from orders.services import order_create
    from tickets.services import ticket_open

    cart_add(user=customer, product_id=onion.pk, quantity=1)
    order, _ = order_create(user=customer, address_id=address.pk)
    ticket_open(user=customer, subject="Late", message="Where is it?", order_id=order.pk)
    Group.objects.create(name="Support")
    RefreshToken.for_user(customer).blacklist()
    assert len(admin.site._registry) >= 7
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        instance = model._default_manager.first()
        assert instance is not None, f"no {model._meta.label} to open"
        pages = [
            reverse("admin:{}_{}_changelist".format(*info)),
            reverse("admin:{}_{}_change".format(*info), args=[instance.pk]),
        ]
        if model_admin.has_add_permission(admin_client.get(pages[0]).wsgi_request):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
        for url in pages:
            assert admin_client.get(url).status_code == 200, url


def test_manage_py_test_runs_the_pytest_suite_for_one_app():
    # Its own test database, so it does not collide with the one this run holds.
    env = {**os.environ, "DB_TEST_NAME": "test_desideliver_manage_py_test"}
    env.pop("DJANGO_SETTINGS_MODULE")
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "tickets", "-v", "2"],
        cwd=REPO_DIR / "backend",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "tests/api/tickets/test_tickets.py::" in result.stdout
    assert "tests/api/orders" not in result.stdout
    assert " passed" in result.stdout.splitlines()[-1]
