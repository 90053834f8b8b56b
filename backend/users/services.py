from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from desideliver_backend.exceptions import DomainError
from notifications.models import OutboxEmail
from notifications.services import email_enqueue

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


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "", phone: str = "") -> None:
    """Creates the account, or, if the address already has one, emails its owner: the
    caller answers both the same way, so sign-up never tells whether an address is
    registered (the email tells the owner). Each case emails the address once and
    hashes the password once, so neither the answer nor its timing differs."""
    address = canonical_email(email)
    existing = User.objects.filter(email=address).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=address, password=password, full_name=full_name, phone=phone)
        except IntegrityError:  # a sign-up with the same address committed a moment ago
            existing = User.objects.get(email=address)
        else:
            email_verification_request(user=user)
            return
    make_password(password)
    _account_link_email(
        user=existing,
        subject="Someone tried to sign up with your address",
        text=(
            "Someone tried to create a DesiDeliver account with this address, which already has one.\n\n"
            "If it was you, sign in; if you have forgotten your password, reset it here:\n{link}\n\n"
            "If it was not you, ignore this email; nothing has changed.\n"
        ),
        url=settings.PASSWORD_RESET_URL,
        token=default_token_generator.make_token(existing),
    )


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


class EmailVerificationError(DomainError):
    field = "token"


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """One-time: the hash covers the address and when it was verified, so a link stops
    working once used, or once the address changes."""

    key_salt = "desideliver.users.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
LINK_REMOVED = "[the link was removed from the shop's copy once sent]"


def _account_link_email(*, user: User, subject: str, text: str, url: str, token: str) -> None:
    """An account email with a one-time link: sent first (priority), and the shop's copy
    keeps the text without the link (notifications.services)."""
    link = f"{url}?uid={urlsafe_base64_encode(force_bytes(user.pk))}&token={token}"
    email_enqueue(
        to=user.email,
        subject=subject,
        body=text.format(link=link),
        redacted_body=text.format(link=LINK_REMOVED),
        priority=OutboxEmail.Priority.ACCOUNT,
    )


def _user_from_uid(uid: str) -> User | None:
    try:
        return User.objects.filter(pk=int(force_str(urlsafe_base64_decode(uid))), is_active=True).first()
    except (ValueError, TypeError, OverflowError):
        return None


def password_reset_request(*, email: str) -> None:
    """Emails a one-time link to an active account; says nothing about whether one exists."""
    user = User.objects.filter(email=canonical_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    _account_link_email(
        user=user,
        subject="Reset your DesiDeliver password",
        text=(
            "Someone asked to reset the password of your DesiDeliver account.\n\n"
            f"To choose a new password, open this link (it works once, for {hours} hours):\n{{link}}\n\n"
            "If it was not you, ignore this email; your password stays as it is.\n"
        ),
        url=settings.PASSWORD_RESET_URL,
        token=default_token_generator.make_token(user),
    )


def password_reset_user(*, uid: str, token: str) -> User:
    """The user a reset link names, if its token is still valid."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise PasswordResetError("This reset link is invalid, used or expired; ask for a new one.")
    return user


def email_verification_request(*, user: User) -> bool:
    """Emails the signed-in user a one-time link proving they own the address; False if already verified."""
    if user.email_verified:
        return False
    _account_link_email(
        user=user,
        subject="Confirm your DesiDeliver email address",
        text=(
            "To confirm this is your address, open this link:\n{link}\n\n"
            "If you did not sign up for DesiDeliver, ignore this email.\n"
        ),
        url=settings.EMAIL_VERIFY_URL,
        token=email_verification_token.make_token(user),
    )
    return True


@transaction.atomic
def email_verify(*, uid: str, token: str) -> User:
    user = _user_from_uid(uid)
    if user is not None:
        user = User.objects.select_for_update().get(pk=user.pk)
    if user is None or not email_verification_token.check_token(user, token):
        raise EmailVerificationError("This verification link is invalid, used or expired; ask for a new one.")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user
