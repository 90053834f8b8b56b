from rest_framework import serializers

from .models import Ticket, TicketMessage


class TicketMessageSerializer(serializers.ModelSerializer):
    author_email = serializers.EmailField(source="author.email", read_only=True)
    from_staff = serializers.BooleanField(source="author.is_staff", read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "author_email", "from_staff", "body", "created_at"]


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
