"""One place that turns failures into API responses.

Domain errors raised by services become 400s with field messages; deleting a row
that others still refer to is a 409; a database that cannot be reached becomes a
JSON 503 rather than an HTML 500 page. Everything else
keeps DRF's shapes: ``{"field": ["message"]}`` and ``{"detail": "message"}``.
"""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("desideliver.api")


class DomainError(Exception):
    """A business rule said no. ``field`` names the request field it concerns."""

    field = "non_field_errors"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field:
            self.field = field


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = ValidationError({exc.field: [exc.message]})
    if isinstance(exc, (ProtectedError, RestrictedError)):
        blockers = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        return Response(
            {"detail": f"Cannot delete this: {', '.join(blockers)} still refer to it."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and connection.connection is None
    ):
        logger.error("database unavailable: %s", exc)
        connection.close_if_unusable_or_obsolete()
        return Response(
            {"detail": "The service is temporarily unavailable. Please retry shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return exception_handler(exc, context)
