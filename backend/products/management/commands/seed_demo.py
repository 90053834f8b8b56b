"""Idempotent demo data: an Indian grocery catalogue, a demo customer and a staff user.

Running it again updates the catalogue in place and leaves existing users' passwords
and anything a developer added alone.
"""

import os
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from products.models import Category, Product
from users.models import Address, User
from users.services import address_save

CATALOGUE = {
    ("Vegetables", "vegetables"): [
        ("Onion", "1 kg", "38.00", 200, "Nashik red onions."),
        ("Tomato", "1 kg", "32.00", 150, "Farm-fresh desi tomatoes."),
        ("Potato", "1 kg", "30.00", 250, "Agra potatoes, ideal for aloo sabzi."),
        ("Green Chilli", "100 g", "9.00", 120, "Hot and fresh."),
        ("Coriander Leaves", "1 bunch", "15.00", 80, "Dhaniya for garnish."),
        ("Bhindi (Okra)", "500 g", "34.00", 60, "Tender ladies' finger."),
    ],
    ("Fruits", "fruits"): [
        ("Alphonso Mango", "1 dozen", "899.00", 25, "Ratnagiri hapus, in season."),
        ("Banana (Robusta)", "1 dozen", "60.00", 100, "Ripe yellow bananas."),
        ("Pomegranate", "1 kg", "180.00", 40, "Bhagwa anar."),
    ],
    ("Dairy", "dairy"): [
        ("Toned Milk", "1 L", "56.00", 300, "Pasteurised toned milk."),
        ("Paneer", "200 g", "90.00", 70, "Soft malai paneer."),
        ("Dahi (Curd)", "400 g", "45.00", 90, "Set curd."),
        ("Amul Butter", "100 g", "58.00", 110, "Pasteurised table butter."),
    ],
    ("Staples", "staples"): [
        ("Chakki Atta", "5 kg", "265.00", 80, "Whole wheat atta."),
        ("Basmati Rice", "1 kg", "149.00", 120, "Aged long-grain basmati."),
        ("Toor Dal", "1 kg", "165.00", 90, "Unpolished arhar dal."),
        ("Moong Dal", "500 g", "78.00", 75, "Yellow split moong."),
        ("Mustard Oil", "1 L", "175.00", 60, "Kachi ghani mustard oil."),
    ],
    ("Spices", "spices"): [
        ("Haldi (Turmeric) Powder", "200 g", "52.00", 100, "Salem turmeric."),
        ("Garam Masala", "100 g", "75.00", 85, "Whole-spice blend."),
        ("Jeera (Cumin)", "100 g", "62.00", 95, "Bold cumin seeds."),
    ],
    ("Snacks", "snacks"): [
        ("Aloo Bhujia", "400 g", "110.00", 70, "Bikaneri namkeen."),
        ("Parle-G Biscuits", "800 g", "90.00", 130, "The family pack."),
        ("Masala Chai Mix", "250 g", "145.00", 50, "Assam CTC with cardamom and ginger."),
    ],
}


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


class Command(BaseCommand):
    help = "Loads demo data (catalogue, demo@desideliver.in customer, staff@desideliver.in staff). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true", help="Seed outside development settings.")

    @transaction.atomic
    def handle(self, *args, allow_production=False, **options):
        if not settings.DEMO_DATA_ALLOWED and not allow_production:
            raise CommandError(
                "These are not development settings: refusing to add demo users with known "
                "passwords (pass --allow-production to do it anyway)."
            )
        password = os.environ.get("DEMO_PASSWORD", "desideliver-demo")
        products = 0
        for position, ((category_name, category_slug), items) in enumerate(CATALOGUE.items()):
            category, _ = Category.objects.update_or_create(
                slug=category_slug, defaults={"name": category_name, "position": position, "is_active": True}
            )
            for name, unit, price, stock, description in items:
                Product.objects.update_or_create(
                    slug=_slug(name),
                    defaults={
                        "name": name,
                        "category": category,
                        "unit": unit,
                        "price": Decimal(price),
                        "stock": stock,
                        "description": description,
                        "is_active": True,
                    },
                )
                products += 1

        customer = self._user("demo@desideliver.in", "Asha Demo", "+919800000001", password, staff=False)
        self._user("staff@desideliver.in", "Ravi Staff", "+919800000002", password, staff=True)
        if not customer.addresses.exists():
            address_save(
                address=Address(
                    user=customer,
                    label="Home",
                    line1="12 MG Road",
                    line2="Indiranagar",
                    city="Bengaluru",
                    state="Karnataka",
                    pin_code="560038",
                    is_default=True,
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(CATALOGUE)} categories, {products} products; "
                "sign in as demo@desideliver.in or staff@desideliver.in "
                "(password: $DEMO_PASSWORD, default desideliver-demo)."
            )
        )

    def _user(self, email, full_name, phone, password, *, staff):
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "phone": phone, "is_staff": staff}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user
