"""The catalogue cache: rendered JSON bodies of catalogue reads, kept in Redis.

This module owns everything about it: the request key, the version check, the
middleware that answers anonymous hits, the view mixin that fills the cache,
and invalidation.

Correctness rests on PostgreSQL, not on Redis:
- ``products_catalogueversion`` holds one random version, replaced at the commit
  of any transaction that inserts, updates or deletes a product or category, by
  database triggers. Every write path moves it: the ORM, admin bulk actions,
  queryset ``.update()``, ``loaddata``, raw SQL, a restored backup.
- Each cached body is stored with the version it was built from and served only
  while that is the current version.
- Redis keeps a copy of the current version for ``CATALOGUE_VERSION_SECONDS`` so
  a hit needs no database query. Writes through Django drop that copy as they
  commit, so their readers see them at once; a write Django cannot see (raw SQL,
  a restore) or one made while Redis was unreachable is served stale for at most
  ``CATALOGUE_VERSION_SECONDS``, after which the copy is re-read from PostgreSQL.

If Redis is down, every read goes to PostgreSQL (django-redis logs the error).
"""

import functools
import hashlib
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.connection import ConnectionProxy
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from desideliver_backend import metrics

VERSION_KEY = "catalogue:version"
# A Redis instance of its own, with maxmemory and LRU eviction (settings: CACHES).
django_cache = ConnectionProxy(caches, "catalogue")


# -- versions ---------------------------------------------------------------------------------------------------


def _database_version() -> str:
    # Through the app registry: products.models imports this module (CatalogueQuerySet).
    version_model = apps.get_model("products", "CatalogueVersion")
    value = version_model.objects.filter(pk=1).values_list("value", flat=True).first()
    return str(value) if value is not None else ""


def _current_version(cached: str | None) -> str:
    if cached is not None:
        return cached
    version = _database_version()
    django_cache.set(VERSION_KEY, version, timeout=settings.CATALOGUE_VERSION_SECONDS)
    return version


def invalidate() -> None:
    """Drops Redis's copy of the version, so the next read takes the new one from PostgreSQL."""
    django_cache.delete(VERSION_KEY)


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate)


class CatalogueQuerySet(models.QuerySet):
    """Bulk writes drop the version copy too (the triggers have already moved the version)."""

    def update(self, **kwargs):
        invalidate_on_commit()
        return super().update(**kwargs)

    def delete(self):
        invalidate_on_commit()
        return super().delete()

    def bulk_create(self, *args, **kwargs):
        invalidate_on_commit()
        return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args, **kwargs):
        invalidate_on_commit()
        return super().bulk_update(*args, **kwargs)


def _invalidate_after_row_change(sender, **kwargs) -> None:
    invalidate_on_commit()


def connect(*models_to_watch) -> None:
    """Called from ProductsConfig.ready(): single-row saves and deletes (forms, loaddata) drop the copy."""
    for model in models_to_watch:
        post_save.connect(_invalidate_after_row_change, sender=model, dispatch_uid=f"catalogue-save-{model.__name__}")
        post_delete.connect(
            _invalidate_after_row_change, sender=model, dispatch_uid=f"catalogue-delete-{model.__name__}"
        )


# -- entries ----------------------------------------------------------------------------------------------------


def request_key(request, kind: str, identifier: str = "", parameters: frozenset[str] = frozenset()) -> str:
    """One key per distinct request as the view sees it: every value of each parameter
    the view reads (``parameters``), re-encoded, so a value holding ``&`` or ``=`` can
    never pass for two parameters. Any other parameter changes nothing in the answer,
    so it makes no new entry (``?x=1``, ``?x=2``... cannot fill Redis). Parameters are
    sorted by name only: the order of a repeated parameter's values matters (the last
    one wins). Pagination links carry the scheme and host, so they are part of it."""
    pairs = [(name, value) for name, values in request.GET.lists() if name in parameters for value in values]
    query = urlencode(sorted(pairs, key=lambda pair: pair[0]))
    raw = "\n".join([f"{request.scheme}://{request.get_host()}", kind, identifier, query])
    return f"catalogue:{kind}:{hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()}"


def lookup(key: str) -> tuple[str | None, bytes | None]:
    """Redis's copy of the version (None when it has none) and the entry's body if it was built from that version."""
    found = django_cache.get_many([VERSION_KEY, key])
    version, entry = found.get(VERSION_KEY), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return version, entry[1]
    return version, None


def cached_body(key: str, build) -> bytes:
    cached_version, body = lookup(key)
    metrics.CACHE_LOOKUPS.labels("catalogue", "miss" if body is None else "hit").inc()
    if body is not None:
        return body
    # Read before building: an entry is never labelled with a version newer than its data.
    version = _current_version(cached_version)
    body = build()
    django_cache.set(key, (version, body), timeout=settings.CATALOGUE_CACHE_SECONDS)
    return body


# -- serving ----------------------------------------------------------------------------------------------------


class CachedCatalogueMixin:
    """For catalogue viewsets: anonymous and customer JSON reads come from Redis;
    staff (who also see inactive rows) and other formats always go to the database."""

    cache_kind = ""  # "product" or "category": part of every key

    @classmethod
    @functools.cache
    def cache_parameters(cls, action: str) -> frozenset[str]:
        """The query parameters a list or detail read depends on: the format override,
        and for lists the filters', ordering's and pagination's own parameters, read
        from the backends the view uses plus what get_queryset reads (list_parameters)."""
        names = {api_settings.URL_FORMAT_OVERRIDE}
        if action == "list":
            names |= set(getattr(cls, "list_parameters", ()))
            for backend in cls.filter_backends:
                names |= {getattr(backend, "search_param", None), getattr(backend, "ordering_param", None)}
            paginator = cls.pagination_class
            if paginator is not None:
                names |= {
                    getattr(paginator, "page_query_param", None),
                    getattr(paginator, "page_size_query_param", None),
                }
        return frozenset(name for name in names if name)

    def _cacheable(self, request) -> bool:
        return not request.user.is_staff and request.accepted_renderer.format == "json"

    def _cached(self, request, action: str, identifier: str, build) -> HttpResponse:
        key = request_key(request, f"{self.cache_kind}-{action}", identifier, self.cache_parameters(action))
        body = cached_body(key, lambda: JSONRenderer().render(build().data))
        return HttpResponse(body, content_type="application/json")

    def list(self, request, *args, **kwargs):
        if not self._cacheable(request):
            return super().list(request, *args, **kwargs)
        return self._cached(
            request, "list", "", lambda: super(CachedCatalogueMixin, self).list(request, *args, **kwargs)
        )

    def retrieve(self, request, *args, **kwargs):
        if not self._cacheable(request):
            return super().retrieve(request, *args, **kwargs)
        return self._cached(
            request,
            "detail",
            str(kwargs[self.lookup_field]),
            lambda: super(CachedCatalogueMixin, self).retrieve(request, *args, **kwargs),
        )


def _anonymous_json_get(request) -> bool:
    if request.method not in ("GET", "HEAD") or "authorization" in request.headers:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False  # possibly staff, who see inactive rows
    accept = request.headers.get("accept", "*/*")
    return "text/html" not in accept  # browsers get the browsable API in development


def cached_read(path: str) -> tuple[type[CachedCatalogueMixin], str, str] | None:
    """The cached viewset, action and identifier a path routes to, from the URL
    resolver itself: a renamed or new catalogue route is cached as its view is."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    if view_class is None or not issubclass(view_class, CachedCatalogueMixin):
        return None
    action = (getattr(match.func, "actions", None) or {}).get("get")
    if action == "list":
        return view_class, "list", ""
    if action == "retrieve":
        return view_class, "detail", str(match.kwargs.get(view_class.lookup_field, ""))
    return None


class CatalogueCacheMiddleware:
    """Answers anonymous catalogue GETs that are already cached, before sessions,
    CSRF, authentication and DRF run; a miss goes on to the view, which fills the
    cache. It sits after CommonMiddleware, so host validation, CORS and the
    security headers apply as for any response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _anonymous_json_get(request):
            read = cached_read(request.path_info)
            if read is not None:
                view_class, action, identifier = read
                key = request_key(
                    request, f"{view_class.cache_kind}-{action}", identifier, view_class.cache_parameters(action)
                )
                _, body = lookup(key)
                if body is not None:  # a miss is counted by the view, which looks again
                    metrics.CACHE_LOOKUPS.labels("catalogue", "hit").inc()
                    return HttpResponse(body, content_type="application/json")
        return self.get_response(request)
