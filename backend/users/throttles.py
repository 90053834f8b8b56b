"""Throttles for the sign-in endpoints: one counter per client address and one per
account (desideliver_backend.throttling has the rules they share). Over the rate,
DRF answers 429 with Retry-After."""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from desideliver_backend.throttling import ClientAddressThrottle, ScopedThrottle, UserThrottle, hashed

from .models import canonical_email


def _account_from_body(request) -> str | None:
    data = request.data
    if not hasattr(data, "get"):
        return None
    email = data.get("email")
    if isinstance(email, str) and email.strip():
        return canonical_email(email)
    refresh = data.get("refresh")
    if isinstance(refresh, str):
        try:
            return f"user:{RefreshToken(refresh)['user_id']}"
        except (TokenError, KeyError):
            return None
    return None


class AccountThrottle(ScopedThrottle):
    """Keyed on the account a request names (its email in the one canonical form, or
    its refresh token's user), so spreading guesses over many addresses does not help."""

    kind = "account"

    def identity(self, request, view):
        account = _account_from_body(request)
        return None if account is None else hashed(account)


class SignedInUserThrottle(UserThrottle):
    """The signed-in account, staff included (a stolen session must not guess passwords)."""

    exempt_staff = False


AUTH_THROTTLES = [ClientAddressThrottle, AccountThrottle]
SIGNED_IN_THROTTLES = [ClientAddressThrottle, SignedInUserThrottle]
