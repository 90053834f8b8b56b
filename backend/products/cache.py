"""The catalogue cache in Redis, through Django's cache.

Each cached list or detail is the rendered JSON body, stored with the catalogue
version it was built from; a change to any product or category sets a new
version, so an entry from an older version is rebuilt on its next read. A read is
one round trip (MGET of the version and the entry). If Redis is down, the cache
answers misses (django-redis logs the error) and every read goes to PostgreSQL.
"""

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalogue:version"


def invalidate_catalogue() -> None:
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def request_key(request, kind: str, identifier: str = "") -> str:
    """The entry for one response: pagination links carry the scheme and host, so they are part of it."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.GET.items()))
    raw = f"{request.scheme}://{request.get_host()}|{identifier}|{query}"
    return f"catalogue:{kind}:{hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()}"


def lookup(key: str) -> tuple[int | None, bytes | None]:
    """The current catalogue version and the entry's body if it was built from that version."""
    found = cache.get_many([VERSION_KEY, key])
    version, entry = found.get(VERSION_KEY), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return version, entry[1]
    return version, None


def cached_body(key: str, build: Callable[[], bytes]) -> bytes:
    version, body = lookup(key)
    if body is not None:
        return body
    if version is None:
        version = time.time_ns()
        cache.add(VERSION_KEY, version, timeout=None)
    body = build()
    cache.set(key, (version, body), timeout=settings.CATALOGUE_CACHE_SECONDS)
    return body
