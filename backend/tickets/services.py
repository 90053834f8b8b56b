"""Support tickets: customers open and follow up, staff reply and close."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from desideliver_backend.exceptions import DomainError
from orders.models import Order

from .models import Ticket, TicketMessage

logger = logging.getLogger("desideliver.tickets")


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
        transaction.on_commit(lambda: _notify_customer(message.pk))
    return message


def ticket_close(*, ticket: Ticket) -> Ticket:
    ticket.status = Ticket.Status.CLOSED
    ticket.save(update_fields=["status", "updated_at"])
    return ticket


def _notify_customer(message_id: int) -> None:
    message = TicketMessage.objects.select_related("ticket__user").get(pk=message_id)
    ticket = message.ticket
    try:
        send_mail(
            subject=f"Re: {ticket.subject} [ticket #{ticket.pk}]",
            message=f"Our support team replied to your ticket #{ticket.pk}:\n\n{message.body}\n\nDesiDeliver support",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[ticket.user.email],
        )
    except Exception:  # the reply is saved; a lost email is logged for follow-up
        logger.exception("could not email the reply to ticket %s", ticket.pk)
