from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import CartItem
from .serializers import CartAddSerializer, CartItemQuantitySerializer, CartSerializer


def _cart_response(user, status_code=status.HTTP_200_OK) -> Response:
    return Response(CartSerializer(services.cart_with_items(user)).data, status=status_code)


class CartView(APIView):
    """The signed-in user's cart with server-side totals."""

    @extend_schema(responses=CartSerializer)
    def get(self, request):
        return _cart_response(request.user)

    @extend_schema(request=None, responses=CartSerializer)
    def delete(self, request):
        services.cart_clear(cart=services.cart_for_user(request.user))
        return _cart_response(request.user)


class CartAddView(APIView):
    @extend_schema(request=CartAddSerializer, responses={201: CartSerializer})
    def post(self, request):
        serializer = CartAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_add(
            user=request.user,
            product_id=serializer.validated_data["product"],
            quantity=serializer.validated_data["quantity"],
        )
        return _cart_response(request.user, status.HTTP_201_CREATED)


class CartItemView(APIView):
    """Change the quantity of, or remove, one line of the user's own cart."""

    def _item(self, request, item_id: int) -> CartItem:
        return get_object_or_404(CartItem.objects.select_related("product"), pk=item_id, cart__user=request.user)

    @extend_schema(request=CartItemQuantitySerializer, responses=CartSerializer)
    def patch(self, request, item_id: int):
        serializer = CartItemQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_item_set_quantity(
            user=request.user, item_id=item_id, quantity=serializer.validated_data["quantity"]
        )
        return _cart_response(request.user)

    @extend_schema(request=None, responses=CartSerializer)
    def delete(self, request, item_id: int):
        self._item(request, item_id).delete()
        return _cart_response(request.user)
