from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from notifications.services import email_enqueue
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from desideliver_backend.exceptions import DomainError

from .models import Address, User, canonical_email


class PasswordResetError(DomainError):
    field = "token"


@transaction.atomic
def address_save(*, address: Address) -> Address:
    """Saves an address; making it the default unsets the user's previous default.

    The user's row is locked first, so two saves for one user run one after the
    other: two "first address" requests at once give one default, not a conflict.
    """
    User.objects.select_for_update().filter(pk=address.user_id).exists()
    user_addresses = Address.objects.filter(user=address.user)
    if address.is_default:
        user_addresses.exclude(pk=address.pk).filter(is_default=True).update(is_default=False)
    elif not user_addresses.exclude(pk=address.pk).exists():
        address.is_default = True  # a user's first address is their default
    address.save()
    return address


def user_register(*, email: str, password: str, full_name: str = "", phone: str = "") -> User:
    return User.objects.create_user(email=email, password=password, full_name=full_name, phone=phone)


def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklists every refresh token issued to the user that is not blacklisted yet."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(revoked)


@transaction.atomic
def user_set_password(*, user: User, password: str) -> dict[str, str]:
    """Sets the password, revokes every refresh token issued before, and returns a new pair."""
    user.set_password(password)
    user.save(update_fields=["password"])  # also stamps password_changed_at (User.save)
    user_revoke_refresh_tokens(user=user)
    return tokens_for(user)


def password_reset_request(*, email: str) -> None:
    """Emails a one-time link to an active account; says nothing about whether one exists."""
    user = User.objects.filter(email=canonical_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.PASSWORD_RESET_URL}?uid={uid}&token={token}"
    email_enqueue(
        to=user.email,
        subject="Reset your DesiDeliver password",
        body=(
            "Someone asked to reset the password of your DesiDeliver account.\n\n"
            f"To choose a new password, open this link (it works once, for {settings.PASSWORD_RESET_TIMEOUT // 3600} "
            f"hours):\n{link}\n\nIf it was not you, ignore this email; your password stays as it is.\n"
        ),
    )


def password_reset_user(*, uid: str, token: str) -> User:
    """The user a reset link names, if its token is still valid."""
    try:
        user = User.objects.filter(pk=int(force_str(urlsafe_base64_decode(uid))), is_active=True).first()
    except (ValueError, TypeError, OverflowError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise PasswordResetError("This reset link is invalid, used or expired; ask for a new one.")
    return user
