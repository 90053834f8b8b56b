"""One place that turns failures into API responses.

Domain errors raised by services become 400s with field messages; a row a service
looked up that does not exist (or was deleted by a racing request) is a 404; deleting a row
that others still refer to is a 409; a request that lost a race to a unique or
check constraint (two sign-ups with one email) is a 409 naming the field; a
database that cannot be reached becomes a JSON 503 rather than an HTML 500 page. Everything else
keeps DRF's shapes: ``{"field": ["message"]}`` and ``{"detail": "message"}``.
"""

import functools
import logging

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("desideliver.api")


class DomainError(Exception):
    """A business rule said no. ``field`` names the request field it concerns."""

    field = "non_field_errors"
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field:
            self.field = field


@functools.cache
def _constraint_fields() -> dict[str, str]:
    """PostgreSQL constraint name -> the API field it guards, for every model."""
    fields = {}
    for model in apps.get_models():
        table = model._meta.db_table
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                fields[f"{table}_{field.column}_key"] = field.name  # PostgreSQL's name for a UNIQUE column
        for constraint in model._meta.constraints:
            named = getattr(constraint, "fields", None) or ["non_field_errors"]
            fields[constraint.name] = named[-1]
    return fields


def _conflict(exc: IntegrityError) -> Response:
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or ""
    field = _constraint_fields().get(constraint, "non_field_errors")
    logger.info("request lost a race to constraint %s", constraint or "?")
    message = "This conflicts with a change made at the same moment; it was not saved. Check and try again."
    if constraint.endswith("_key"):
        message = "This value is already in use."
    return Response({field: [message]}, status=status.HTTP_409_CONFLICT)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.status_code != status.HTTP_400_BAD_REQUEST:
            return Response({exc.field: [exc.message]}, status=exc.status_code)
        exc = ValidationError({exc.field: [exc.message]})
    if isinstance(exc, ObjectDoesNotExist):  # a service's .get() of a row that is gone (or never was)
        exc = NotFound()
    if isinstance(exc, (ProtectedError, RestrictedError)):
        blockers = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        return Response(
            {"detail": f"Cannot delete this: {', '.join(blockers)} still refer to it."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        return _conflict(exc)
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
