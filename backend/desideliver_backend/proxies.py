"""Which peers may speak for the client: X-Forwarded-For/-Proto/-Host are believed
only from the addresses in TRUSTED_PROXIES (Gunicorn's forwarded_allow_ips reads the
same list). From anyone else they are removed before Django or DRF can read them,
so HTTPS detection, throttling and logs cannot be fooled by a header a client sets.
"""

import ipaddress
from functools import cache

from django.conf import settings

FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED")


@cache
def _networks(listed: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(network) for network in listed)


def is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(meta) -> str:
    """The nearest address in X-Forwarded-For that is not one of our proxies."""
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                break  # garbage from further out: the last proxy's peer is all we know
    return meta.get("REMOTE_ADDR", "")


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if is_trusted(meta.get("REMOTE_ADDR", "")):
            meta["REMOTE_ADDR"] = client_address(meta)
        else:
            for header in FORWARDING_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
