from django.urls import path

from .views import TicketCloseView, TicketDetailView, TicketListView, TicketMessageView

urlpatterns = [
    path("", TicketListView.as_view(), name="ticket-list"),
    path("<int:pk>/", TicketDetailView.as_view(), name="ticket-detail"),
    path("<int:pk>/messages/", TicketMessageView.as_view(), name="ticket-messages"),
    path("<int:pk>/close/", TicketCloseView.as_view(), name="ticket-close"),
]
