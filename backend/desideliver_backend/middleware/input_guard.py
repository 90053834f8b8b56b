"""Refuses a NUL character in the path or a query parameter with a 400.

PostgreSQL cannot store or compare NUL in text, so a ``%00`` that reached a filter
(``?search=a%00``) would fail deep in the database driver as a 500. JSON bodies are
covered by DRF's CharField, which refuses NUL itself.
"""

from django.http import JsonResponse


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values) for name, values in request.GET.lists()
        ):
            return JsonResponse({"detail": "The request's path or query contains a NUL character."}, status=400)
        return self.get_response(request)
