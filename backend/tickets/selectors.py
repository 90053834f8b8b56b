from django.db.models import QuerySet

from .models import Ticket


def tickets_visible_to(user) -> QuerySet[Ticket]:
    """A customer's own tickets with their messages; staff see every ticket."""
    tickets = Ticket.objects.select_related("user").prefetch_related("messages__author")
    return tickets if user.is_staff else tickets.filter(user=user)
