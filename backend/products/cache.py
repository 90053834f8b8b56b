"""The catalogue cache in Redis, through Django's cache.

Every cached list and detail is keyed under a catalogue version; a change to any
product or category sets a new version, so stale entries are never read again and
simply expire. If Redis is down, the cache answers misses (django-redis logs the
error) and every read goes to PostgreSQL.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalogue:version"


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(VERSION_KEY, version, timeout=None)
    return version


def invalidate_catalogue() -> None:
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def key(kind: str, *parts: str) -> str:
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()
    return f"catalogue:{_version()}:{kind}:{digest}"


def get_or_build(cache_key: str, build):
    data = cache.get(cache_key)
    if data is None:
        data = build()
        cache.set(cache_key, data, timeout=settings.CATALOGUE_CACHE_SECONDS)
    return data
