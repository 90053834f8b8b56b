from django.urls import path

from .views import OrderCancelView, OrderCreateView, OrderDetailView, OrderListView, OrderStatusView

urlpatterns = [
    path("", OrderListView.as_view(), name="order-list"),
    path("create/", OrderCreateView.as_view(), name="order-create"),
    path("<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("<int:pk>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path("<int:pk>/status/", OrderStatusView.as_view(), name="order-status"),
]
