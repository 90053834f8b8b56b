"""Rate limits: one module for every throttle the API uses.

Counters live in the ``default`` cache, the Redis that also holds the broker and
the beat lock: it has no eviction policy, so a flood of catalogue entries (which
live in the ``catalogue`` cache, another instance) can never push a counter out.
Rates are REST_FRAMEWORK's DEFAULT_THROTTLE_RATES (THROTTLE_RATES), per scope.

Two rules hold for every throttle here:
- The first throttle that refuses a request decides: the ones after it do not
  count it and do not read its body (a refused login is never parsed).
- When Redis cannot be reached the request is refused with a 503 and
  Retry-After, not let through uncounted: an outage must not switch the limits off.
  A throttle with ``fail_open`` lets it through instead (logged at ERROR), where
  limits kept in PostgreSQL still bound the harm and refusing would stop the shop.

Client addresses are REMOTE_ADDR as TrustedProxyMiddleware left it: the real
client's when the request came through a trusted proxy, the peer's otherwise.
"""

import hashlib
import logging

from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.throttling import ScopedRateThrottle

from desideliver_backend import metrics

logger = logging.getLogger("desideliver.throttling")

UNAVAILABLE_RETRY_SECONDS = 5


class ThrottleUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Request limits cannot be checked right now. Please retry shortly."
    default_code = "throttle_unavailable"
    wait = UNAVAILABLE_RETRY_SECONDS  # DRF's handler turns this into Retry-After


def hashed(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class ScopedThrottle(ScopedRateThrottle):
    """The view's ``throttle_scope`` at its configured rate, keyed by ``identity()``.
    A request another throttle already refused passes here uncounted and unread."""

    kind = ""
    fail_open = False

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        identity = self.identity(request, view)
        if identity is None:
            return None
        return self.cache_format % {"scope": f"{self.scope}:{self.kind}", "ident": identity}

    def allow_request(self, request, view):
        if getattr(request, "_refused_by_throttle", False):
            return True
        try:
            allowed = super().allow_request(request, view)
        except RedisError as exc:
            if self.fail_open:
                logger.error("throttle %s:%s let a request through: Redis unavailable: %s", self.scope, self.kind, exc)
                return True
            logger.error("throttle %s:%s refused a request: Redis unavailable: %s", self.scope, self.kind, exc)
            raise ThrottleUnavailable from exc
        if not allowed:
            request._refused_by_throttle = True
            metrics.THROTTLED.labels(self.scope).inc()
        return allowed


class ClientAddressThrottle(ScopedThrottle):
    kind = "address"

    def identity(self, request, view):
        return self.get_ident(request)


class UserThrottle(ScopedThrottle):
    """Per signed-in account; staff are not limited."""

    kind = "user"
    exempt_staff = True

    def identity(self, request, view):
        user = request.user
        if not user.is_authenticated or (self.exempt_staff and user.is_staff):
            return None
        return str(user.pk)
