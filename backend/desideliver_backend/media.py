"""Uploaded files, when Django serves them (development; production leaves media to
the proxy or a CDN, SERVE_MEDIA=false). Every response is marked so a browser never
runs it: no content sniffing, and a policy that allows an image and nothing else."""

from django.conf import settings
from django.views.static import serve

MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "Cross-Origin-Resource-Policy": "same-site",
}


def serve_media(request, path):
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    for header, value in MEDIA_HEADERS.items():
        response[header] = value
    return response
