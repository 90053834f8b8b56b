import re

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from desideliver_backend.throttling import UserThrottle

from . import services
from .models import Order
from .selectors import orders_visible_to
from .serializers import OrderCreateSerializer, OrderSerializer, OrderStatusSerializer

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError({"Idempotency-Key": ["Send 1 to 100 printable ASCII characters, e.g. a UUID."]})
    return key


class OrderThrottle(UserThrottle):
    """Placing and cancelling share one budget per customer: each sends an email and
    moves stock (and with it the catalogue cache's version). While Redis is down it
    lets orders through: the limits kept in PostgreSQL (pending orders per customer,
    notices to unverified addresses) still hold, and the shop keeps taking orders."""

    fail_open = True


class OrderListView(generics.ListAPIView):
    """The user's orders, newest first (staff see every order)."""

    serializer_class = OrderSerializer

    def get_queryset(self):
        return orders_visible_to(self.request.user)


class OrderDetailView(generics.RetrieveAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return orders_visible_to(self.request.user)


class OrderCreateView(APIView):
    """Turns the cart into an order delivered to one of the user's addresses."""

    throttle_classes = [OrderThrottle]
    throttle_scope = "orders"

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Any unique string (a UUID) per checkout, up to 100 printable ASCII characters. "
                "A retry with the same key returns the order the first request placed, "
                "with the header Idempotent-Replayed: true.",
            )
        ],
    )
    def post(self, request):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order, created = services.order_create(
            user=request.user,
            address_id=serializer.validated_data["address"],
            note=serializer.validated_data["note"],
            idempotency_key=idempotency_key(request),
        )
        body = OrderSerializer(orders_visible_to(request.user).get(pk=order.pk)).data
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class OrderCancelView(APIView):
    """Cancels one of the user's own orders while it is still pending; its stock returns."""

    throttle_classes = [OrderThrottle]
    throttle_scope = "orders"

    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, pk: int):
        order = get_object_or_404(Order, pk=pk, user=request.user)
        order = services.order_cancel_by_customer(order=order)
        return Response(OrderSerializer(orders_visible_to(request.user).get(pk=order.pk)).data)


class OrderStatusView(APIView):
    """Staff move an order along its allowed transitions."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=OrderStatusSerializer, responses=OrderSerializer)
    def patch(self, request, pk: int):
        order = get_object_or_404(Order, pk=pk)
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_set_status(order=order, status=serializer.validated_data["status"])
        return Response(OrderSerializer(orders_visible_to(request.user).get(pk=order.pk)).data)
