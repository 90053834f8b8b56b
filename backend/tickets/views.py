from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import Ticket
from .selectors import tickets_visible_to
from .serializers import TicketMessageSerializer, TicketOpenSerializer, TicketReplySerializer, TicketSerializer


class TicketListView(generics.ListAPIView):
    """The user's tickets (staff see all); POST opens a new one."""

    serializer_class = TicketSerializer

    def get_queryset(self):
        tickets = tickets_visible_to(self.request.user)
        wanted_status = self.request.query_params.get("status")
        return tickets.filter(status=wanted_status) if wanted_status else tickets

    @extend_schema(request=TicketOpenSerializer, responses={201: TicketSerializer})
    def post(self, request):
        serializer = TicketOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_open(
            user=request.user,
            subject=serializer.validated_data["subject"],
            message=serializer.validated_data["message"],
            order_id=serializer.validated_data.get("order"),
        )
        return Response(
            TicketSerializer(tickets_visible_to(request.user).get(pk=ticket.pk)).data, status=status.HTTP_201_CREATED
        )


class TicketDetailView(generics.RetrieveAPIView):
    serializer_class = TicketSerializer

    def get_queryset(self):
        return tickets_visible_to(self.request.user)


class TicketMessageView(APIView):
    """Adds a message to a ticket: the customer's follow-up or a staff reply (emailed)."""

    @extend_schema(request=TicketReplySerializer, responses={201: TicketMessageSerializer})
    def post(self, request, pk: int):
        ticket = get_object_or_404(tickets_visible_to(request.user), pk=pk)
        serializer = TicketReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.ticket_reply(ticket=ticket, author=request.user, body=serializer.validated_data["body"])
        return Response(TicketMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketCloseView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=None, responses=TicketSerializer)
    def post(self, request, pk: int):
        ticket = services.ticket_close(ticket=get_object_or_404(Ticket, pk=pk))
        return Response(TicketSerializer(tickets_visible_to(request.user).get(pk=ticket.pk)).data)
