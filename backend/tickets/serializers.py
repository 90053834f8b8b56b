from rest_framework import serializers

from .models import Ticket, TicketMessage

SUPPORT_NAME = "DesiDeliver support"


class TicketMessageSerializer(serializers.ModelSerializer):
    """Staff appear as the support team: customers never learn a staff member's address."""

    author_name = serializers.SerializerMethodField()
    from_staff = serializers.BooleanField(source="author.is_staff", read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "author_name", "from_staff", "body", "created_at"]

    def get_author_name(self, message: TicketMessage) -> str:
        if message.author.is_staff and message.author_id != message.ticket.user_id:
            return SUPPORT_NAME
        return message.author.full_name or "You"


class TicketSerializer(serializers.ModelSerializer):
    messages = TicketMessageSerializer(many=True, read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "subject", "status", "order", "user_email", "messages", "created_at", "updated_at"]


class TicketOpenSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=5000)
    order = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class TicketReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
