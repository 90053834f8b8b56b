import pytest
from django.core import mail
from rest_framework_simplejwt.tokens import RefreshToken

from tests.api.conftest import PASSWORD, client_for, make_address
from users.models import User

pytestmark = pytest.mark.django_db


def test_register_creates_a_customer_who_can_then_sign_in(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/auth/register/",
            {"email": "Meera@Example.in", "password": PASSWORD, "full_name": "Meera", "phone": "+919812345678"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "meera@example.in"
    user = User.objects.get(email="meera@example.in")
    assert user.is_staff is False
    tokens = api.post("/api/auth/login/", {"email": "meera@example.in", "password": PASSWORD}, format="json").json()
    me = api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 200
    assert me.json()["full_name"] == "Meera"
    (message,) = mail.outbox
    assert message.to == ["meera@example.in"] and "confirm" in message.body.lower()


def test_register_answers_a_taken_email_exactly_as_a_new_one_and_tells_the_owner(
    api, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        taken = api.post(
            "/api/auth/register/", {"email": customer.email.upper(), "password": "x" + PASSWORD}, format="json"
        )
        new = api.post("/api/auth/register/", {"email": "new@example.in", "password": PASSWORD}, format="json")
    assert taken.status_code == new.status_code == 201
    assert taken.json()["detail"] == new.json()["detail"]
    assert set(taken.json()) == set(new.json())
    owner_note = next(message for message in mail.outbox if message.to == [customer.email])
    assert "already has one" in owner_note.body
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD), "the existing account is untouched"
    assert User.objects.filter(email=customer.email).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "new@example.in", "password": "123"}, "password"),
        ({"email": "new@example.in", "password": "password"}, "password"),
        ({"email": "new@example.in", "password": PASSWORD, "phone": "call me"}, "phone"),
        ({"password": PASSWORD}, "email"),
    ],
)
def test_register_rejects_bad_input_with_field_messages(api, payload, field):
    response = api.post("/api/auth/register/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_login_returns_a_jwt_pair_that_authenticates(api, customer):
    response = api.post("/api/auth/login/", {"email": customer.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    me = api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.json()["email"] == customer.email


def test_login_with_a_wrong_password_is_401(api, customer):
    response = api.post("/api/auth/login/", {"email": customer.email, "password": "wrong-password"}, format="json")
    assert response.status_code == 401


def test_login_of_an_inactive_user_is_401(api, customer):
    customer.is_active = False
    customer.save()
    response = api.post("/api/auth/login/", {"email": customer.email, "password": PASSWORD}, format="json")
    assert response.status_code == 401


def test_refresh_issues_a_new_access_token(api, customer):
    refresh = RefreshToken.for_user(customer)
    response = api.post("/api/auth/refresh/", {"refresh": str(refresh)}, format="json")
    assert response.status_code == 200
    assert api.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}").status_code == 200


def test_refresh_with_a_garbage_token_is_401(api):
    assert api.post("/api/auth/refresh/", {"refresh": "garbage"}, format="json").status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Token abc"])
def test_me_needs_a_valid_token(api, header):
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}
    assert api.get("/api/auth/me/", **kwargs).status_code == 401


def test_me_patch_changes_the_profile_but_not_email_or_staff_flag(customer_api, customer):
    response = customer_api.patch(
        "/api/auth/me/",
        {"full_name": "Asha Rao", "phone": "+919811111111", "email": "x@y.in", "is_staff": True},
        format="json",
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.full_name, customer.phone) == ("Asha Rao", "+919811111111")
    assert customer.email == "asha@example.in"
    assert customer.is_staff is False


def test_me_put_is_not_allowed(customer_api):
    assert customer_api.put("/api/auth/me/", {"full_name": "X"}, format="json").status_code == 405


def test_addresses_first_one_becomes_default_and_a_new_default_replaces_it(customer_api):
    first = {"label": "Home", "line1": "1 Park St", "city": "Kolkata", "state": "West Bengal", "pin_code": "700016"}
    created = customer_api.post("/api/auth/me/addresses/", first, format="json")
    assert created.status_code == 201
    assert created.json()["is_default"] is True
    second = customer_api.post(
        "/api/auth/me/addresses/", {**first, "label": "Office", "is_default": True}, format="json"
    )
    assert second.json()["is_default"] is True
    listed = customer_api.get("/api/auth/me/addresses/").json()
    assert [(a["label"], a["is_default"]) for a in listed] == [("Office", True), ("Home", False)]


def test_address_with_a_bad_pin_code_is_400(customer_api):
    payload = {"line1": "1 Park St", "city": "Kolkata", "state": "West Bengal", "pin_code": "12"}
    response = customer_api.post("/api/auth/me/addresses/", payload, format="json")
    assert response.status_code == 400
    assert "pin_code" in response.json()


def test_another_users_address_is_404(customer, other_customer):
    theirs = make_address(other_customer)
    client = client_for(customer)
    assert client.get(f"/api/auth/me/addresses/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/auth/me/addresses/{theirs.pk}/", {"city": "Pune"}, format="json").status_code == 404
    assert client.delete(f"/api/auth/me/addresses/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.city == "Bengaluru"
