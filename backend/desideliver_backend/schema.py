"""The OpenAPI schema at /api/schema/: built once per process, and throttled.

drf-spectacular walks every view and serializer on each request (tens of
milliseconds of CPU), and the URL is public: unthrottled, it was the cheapest way
to keep a replica busy. The schema depends only on the code and the requested API
version, so each process keeps the few it has built.
"""

import functools

from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

from desideliver_backend.throttling import ClientAddressThrottle


@functools.lru_cache(maxsize=4)  # a handful of versions at most; ?version= is client-chosen
def _built_schema(generator_class, urlconf, version, public) -> dict:
    return generator_class(urlconf=urlconf, api_version=version).get_schema(request=None, public=public)


class SchemaView(SpectacularAPIView):
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "schema"

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        schema = _built_schema(self.generator_class, self.urlconf, version, self.serve_public)
        filename = self._get_filename(request, version)
        return Response(data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'})
