"""The two Redis caches: data (throttles, beat lock) and catalogue."""

from desideliver_backend import env

REDIS_PASSWORD = env.string("REDIS_PASSWORD", default="") or None
_REDIS_TIMEOUTS = {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
CACHES = {
    # The data Redis (REDIS_URL): throttle counters and the beat lock, beside the broker.
    # It must never evict; a failure is raised, so throttles refuse rather than allow
    # (desideliver_backend.throttling).
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.redis_url(),
        "KEY_PREFIX": "desideliver",
        "OPTIONS": {"PASSWORD": REDIS_PASSWORD, **_REDIS_TIMEOUTS},
    },
    # The catalogue cache (REDIS_CACHE_URL): rebuildable entries in an instance of its own
    # with maxmemory and allkeys-lru, since maxmemory-policy is per instance. An outage
    # costs milliseconds, not a hung request: reads fall back to PostgreSQL, logged.
    "catalogue": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.redis_url("REDIS_CACHE_URL", default=env.redis_url()),
        "KEY_PREFIX": "desideliver",
        "OPTIONS": {"PASSWORD": REDIS_PASSWORD, **_REDIS_TIMEOUTS, "IGNORE_EXCEPTIONS": True},
    },
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "desideliver.cache"
CATALOGUE_CACHE_SECONDS = env.integer("CATALOGUE_CACHE_SECONDS", 300)
# How long Redis may answer "which catalogue version is current" before asking PostgreSQL
# again: the worst-case staleness of a write Django did not make or could not report.
CATALOGUE_VERSION_SECONDS = env.integer("CATALOGUE_VERSION_SECONDS", 2, minimum=1)
