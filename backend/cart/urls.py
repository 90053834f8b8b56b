from django.urls import path

from .views import CartAddView, CartItemView, CartView

urlpatterns = [
    path("", CartView.as_view(), name="cart"),
    path("add/", CartAddView.as_view(), name="cart-add"),
    path("items/<int:item_id>/", CartItemView.as_view(), name="cart-item"),
]
