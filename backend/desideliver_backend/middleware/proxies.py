"""Which peers may speak for the client: X-Forwarded-For/-Proto/-Host are believed
only from the addresses in TRUSTED_PROXIES (Gunicorn's forwarded_allow_ips reads the
same list). From anyone else they are removed before Django or DRF can read them,
so HTTPS detection, throttling and logs cannot be fooled by a header a client sets.
"""

import ipaddress
from functools import cache
from pathlib import Path

from django.conf import settings

# And the request's ID, which the edge sets (request_id.py).
FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_FORWARDED",
    "HTTP_X_REQUEST_ID",
)


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


# Where a proxy container connects from, found from this container's routes: what the
# words docker-gateway and docker-networks in TRUSTED_PROXIES stand for (env.networks).


def docker_peers() -> dict[str, list[str]]:
    """``docker-gateway``: this container's default gateway (/32), where traffic to a
    published port comes from; ``docker-networks``: the other addresses of the networks
    it is attached to."""
    routes = _routes()
    gateway = _docker_gateway(routes)
    return {"docker-gateway": [f"{gateway}/32"] if gateway else [], "docker-networks": _docker_networks(routes)}


def _routes() -> list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address, ipaddress.IPv4Address]]:
    """The container's IPv4 routes (destination, gateway, mask), from /proc/net/route."""
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return []

    def address(field: str) -> ipaddress.IPv4Address:
        return ipaddress.IPv4Address(int(field, 16).to_bytes(4, "little"))

    rows = [line.split() for line in lines]
    return [(address(row[1]), address(row[2]), address(row[7])) for row in rows if len(row) > 7]


def _docker_gateway(routes) -> str | None:
    """The container's default gateway: where traffic to a published port comes from."""
    for destination, gateway, _ in routes:
        if int(destination) == 0:
            return str(gateway)
    return None


def _docker_networks(routes) -> list[str]:
    """The IPv4 networks this container is attached to (its directly connected routes),
    less their gateways: the host, where traffic to a published port comes from, is a
    client like any other. Docker gives a network's gateway its first address."""
    gateway = _docker_gateway(routes)
    found = []
    for destination, via, mask in routes:
        if int(via) != 0 or int(mask) == 0:
            continue  # not a directly connected network
        network = ipaddress.IPv4Network(f"{destination}/{mask}", strict=False)
        peers = [network]
        for excluded in {network.network_address + 1, gateway and ipaddress.IPv4Address(gateway)}:
            if excluded and network.prefixlen < 31 and excluded in network:
                peers = [rest for part in peers for rest in _without(part, excluded)]
        found.extend(str(peer) for peer in ipaddress.collapse_addresses(peers))
    return found


def _without(network: ipaddress.IPv4Network, address: ipaddress.IPv4Address):
    if address not in network:
        return [network]
    return list(network.address_exclude(ipaddress.IPv4Network(address)))
