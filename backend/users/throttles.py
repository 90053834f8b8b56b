"""Throttles for the sign-in endpoints: one counter per client address and one per
account, each in Redis (Django's cache), at the rates in REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES under the view's ``throttle_scope``. Over the rate, DRF
answers 429 with Retry-After.

The client address is REMOTE_ADDR as TrustedProxyMiddleware left it: the real
client's when the request came through a trusted proxy, the peer's otherwise.
"""

import hashlib

from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken


class ClientAddressThrottle(ScopedRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}:address", "ident": self.get_ident(request)}


def _account_from_body(request) -> str | None:
    email = request.data.get("email") if hasattr(request.data, "get") else None
    if isinstance(email, str) and email.strip():
        return email.strip().lower()
    refresh = request.data.get("refresh") if hasattr(request.data, "get") else None
    if isinstance(refresh, str):
        try:
            return f"user:{RefreshToken(refresh)['user_id']}"
        except (TokenError, KeyError):
            return None
    return None


class AccountThrottle(ScopedRateThrottle):
    """Keyed on the account a request names (its email, or its refresh token's user),
    so spreading guesses over many addresses does not help."""

    def get_cache_key(self, request, view):
        account = _account_from_body(request)
        if account is None:
            return None
        ident = hashlib.sha256(account.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": f"{self.scope}:account", "ident": ident}


AUTH_THROTTLES = [ClientAddressThrottle, AccountThrottle]
