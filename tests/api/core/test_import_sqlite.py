"""Importing the old SQLite set-up's database, with a file the test fills through the ORM."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from desideliver_backend.management.commands.import_sqlite import legacy_database, row_counts
from orders.models import Order, OrderItem
from products.models import Category, Product
from users.models import Address, User

pytestmark = pytest.mark.django_db(databases=["default"])


@pytest.fixture
def legacy_file(tmp_path):
    path = tmp_path / "db.sqlite3"
    with legacy_database(path) as alias:
        call_command("migrate", database=alias, verbosity=0)
        asha = User.objects.db_manager(alias).create_user(
            email="asha@example.in", password="old-password-123", full_name="Asha"
        )
        address = Address.objects.using(alias).create(
            user=asha, line1="1 MG Road", city="Pune", state="MH", pin_code="411001", is_default=True
        )
        dairy = Category(name="Dairy", slug="dairy")
        dairy.save(using=alias)
        paneer = Product(category=dairy, name="Paneer", slug="paneer", price=Decimal("90.00"), unit="200 g", stock=7)
        paneer.save(using=alias)
        order = Order.objects.using(alias).create(
            user=asha, total=Decimal("180.00"), delivery_name="Asha", delivery_address=address.one_line()
        )
        OrderItem.objects.using(alias).create(
            order=order, product=paneer, product_name="Paneer", unit="200 g", unit_price=Decimal("90.00"), quantity=2
        )
        connections[alias].close()
    return path


def test_import_moves_every_row_and_reports_counts(legacy_file):
    out = StringIO()
    call_command("import_sqlite", str(legacy_file), stdout=out)
    asha = User.objects.get(email="asha@example.in")
    assert asha.check_password("old-password-123")
    order = Order.objects.get(user=asha)
    assert order.items.get().product == Product.objects.get(slug="paneer")
    assert order.total == Decimal("180.00")
    assert Product.objects.get(slug="paneer").stock == 7
    report = out.getvalue()
    assert "users.User" in report and "orders.OrderItem" in report
    assert "imported" in report
    counts = row_counts("default")
    assert counts["users.User"] == 1 and counts["orders.OrderItem"] == 1


def test_a_file_that_is_not_sqlite_is_refused_and_postgres_untouched(tmp_path):
    bogus = tmp_path / "db.sqlite3"
    bogus.write_text("CREATE TABLE users_user (id int);")
    before = row_counts("default")
    with pytest.raises(CommandError, match="is not a SQLite database"):
        call_command("import_sqlite", str(bogus))
    assert row_counts("default") == before


def test_a_sqlite_file_of_another_project_is_refused(tmp_path):
    import sqlite3

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as database:
        database.execute("CREATE TABLE notes (id integer primary key, body text)")
    with pytest.raises(CommandError, match="not DesiDeliver's"):
        call_command("import_sqlite", str(other))
    assert not User.objects.exists()


def test_import_refuses_a_database_that_already_holds_data(legacy_file):
    Category.objects.create(name="Snacks", slug="snacks")
    with pytest.raises(CommandError, match="already holds data"):
        call_command("import_sqlite", str(legacy_file))
    assert list(Category.objects.values_list("slug", flat=True)) == ["snacks"]
