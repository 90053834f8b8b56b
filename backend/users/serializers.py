from django.contrib.auth import password_validation
from django.db import transaction
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings

from .models import Address, User, canonical_email

# The column's length (RFC 5321's path limit); EmailField alone would allow 320.
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


class CanonicalEmailField(serializers.EmailField):
    def __init__(self, **kwargs):
        super().__init__(max_length=EMAIL_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        return canonical_email(super().to_internal_value(data))


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", "label", "line1", "line2", "city", "state", "pin_code", "phone", "is_default"]


class UserSerializer(serializers.ModelSerializer):
    addresses = AddressSerializer(many=True, read_only=True)
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "email_verified", "full_name", "phone", "is_staff", "date_joined", "addresses"]
        read_only_fields = ["id", "email", "email_verified", "is_staff", "date_joined", "addresses"]


class RegisterSerializer(serializers.Serializer):
    email = CanonicalEmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=16, required=False, allow_blank=True, validators=User._meta.get_field("phone").validators
    )

    def validate(self, attrs):
        candidate = User(email=attrs["email"], full_name=attrs.get("full_name", ""))
        try:
            _checked_password(attrs["password"], candidate)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from exc
        return attrs


def _checked_password(password: str, user: User) -> str:
    try:
        password_validation.validate_password(password, user=user)
    except Exception as exc:  # django.core.exceptions.ValidationError
        raise serializers.ValidationError(list(exc.messages)) from exc
    return password


class RegisteredSerializer(serializers.Serializer):
    detail = serializers.CharField()
    email = serializers.EmailField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(write_only=True, style={"input_type": "password"})
    new_password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate_current_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("This is not your current password.")
        return value

    def validate_new_password(self, value: str) -> str:
        return _checked_password(value, self.context["request"].user)


class PasswordResetSerializer(serializers.Serializer):
    email = CanonicalEmailField()


class EmailVerifySerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        from .services import password_reset_user

        user = password_reset_user(uid=attrs["uid"], token=attrs["token"])
        try:
            _checked_password(attrs["new_password"], user)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"new_password": exc.detail}) from exc
        return {**attrs, "user": user}


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, made single-use under concurrency: blacklisting the token
    sent is the first write, and only the request whose insert created the blacklist
    row goes on to issue a pair (the row's unique index decides between racers).
    A refresh token issued before the last password change is refused too."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])  # checks signature, expiry and the blacklist
        user = User.objects.filter(pk=refresh.payload.get(api_settings.USER_ID_CLAIM)).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        if user.issued_before_password_change(refresh.payload.get("iat")):
            raise TokenError("The password was changed after this token was issued.")
        with transaction.atomic():
            _, created = refresh.blacklist()
        if not created:
            raise TokenError("Token is blacklisted")
        data = {"access": str(refresh.access_token)}
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        data["refresh"] = str(refresh)
        return data
