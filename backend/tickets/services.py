"""Support tickets: customers open and follow up, staff reply and close."""

from django.db import transaction

from desideliver_backend.exceptions import DomainError
from notifications.services import email_enqueue
from orders.models import Order

from .models import Ticket, TicketMessage


class TicketError(DomainError):
    pass


@transaction.atomic
def ticket_open(*, user, subject: str, message: str, order_id: int | None = None) -> Ticket:
    order = None
    if order_id is not None:
        order = Order.objects.filter(pk=order_id, user=user).first()
        if order is None:
            raise TicketError(f"Order {order_id} is not one of your orders.", field="order")
    ticket = Ticket.objects.create(user=user, order=order, subject=subject)
    TicketMessage.objects.create(ticket=ticket, author=user, body=message)
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, author, body: str) -> TicketMessage:
    ticket = Ticket.objects.select_for_update().select_related("user").get(pk=ticket.pk)
    if ticket.status == Ticket.Status.CLOSED:
        raise TicketError("This ticket is closed; open a new one.", field="ticket")
    message = TicketMessage.objects.create(ticket=ticket, author=author, body=body)
    staff_reply = author.is_staff and author.pk != ticket.user_id
    ticket.status = Ticket.Status.ANSWERED if staff_reply else Ticket.Status.OPEN
    ticket.save(update_fields=["status", "updated_at"])
    if staff_reply:
        email_enqueue(
            to=ticket.user.email,
            recipient_verified=ticket.user.email_verified,
            subject=f"Re: {ticket.subject} [ticket #{ticket.pk}]",
            body=f"Our support team replied to your ticket #{ticket.pk}:\n\n{body}\n\nDesiDeliver support\n",
        )
    return message


def ticket_close(*, ticket: Ticket) -> Ticket:
    ticket.status = Ticket.Status.CLOSED
    ticket.save(update_fields=["status", "updated_at"])
    return ticket
