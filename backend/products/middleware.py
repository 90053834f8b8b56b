"""Serves anonymous catalogue reads straight from the Redis cache.

The catalogue is read far more than anything else, mostly by visitors who are not
signed in. For a GET with no credentials whose response is already cached, this
answers before sessions, CSRF, authentication and the DRF view run; everything
else (a miss, a signed-in user, the browsable API) goes on to the view, which
fills the cache. It sits after CommonMiddleware, so host validation, CORS and the
security headers apply as for any response.
"""

import re

from django.conf import settings
from django.http import HttpResponse

from . import cache

# (path pattern, cache kind) as CachedCatalogueMixin names them.
CACHED_PATHS = [
    (re.compile(r"^/api/products/$"), "product-list"),
    (re.compile(r"^/api/products/(?P<id>\d+)/$"), "product-detail"),
    (re.compile(r"^/api/categories/$"), "category-list"),
    (re.compile(r"^/api/categories/(?P<id>\d+)/$"), "category-detail"),
]


def _anonymous_json_get(request) -> bool:
    if request.method not in ("GET", "HEAD") or "authorization" in request.headers:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False  # possibly staff, who see inactive rows
    accept = request.headers.get("accept", "*/*")
    return "text/html" not in accept  # browsers get the browsable API in development


class CatalogueCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _anonymous_json_get(request):
            for pattern, kind in CACHED_PATHS:
                match = pattern.match(request.path_info)
                if match:
                    key = cache.request_key(request, kind, match.groupdict().get("id") or "")
                    _, body = cache.lookup(key)
                    if body is not None:
                        return HttpResponse(body, content_type="application/json")
                    break
        return self.get_response(request)
