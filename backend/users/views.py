from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from . import services
from .models import Address
from .serializers import (
    AddressSerializer,
    EmailVerifySerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from .throttles import AUTH_THROTTLES, SIGNED_IN_THROTTLES


class PublicAuthView(APIView):
    """An endpoint for people not signed in: no authentication, the sign-in throttles."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = AUTH_THROTTLES


class RegisterView(PublicAuthView):
    """Creates a customer account; sign in with it next (POST /api/auth/login/).

    The answer is the same whether or not the address already had an account: the
    address gets an email either way (a confirmation link, or a note to its owner)."""

    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_register(**serializer.validated_data)
        body = {
            "detail": "We have emailed this address. If it had no account, yours is ready: sign in with it.",
            "email": serializer.validated_data["email"],
        }
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(jwt_views.TokenObtainPairView):
    """Exchanges email and password for an access and a refresh token."""

    throttle_classes = AUTH_THROTTLES
    throttle_scope = "login"


class RefreshView(jwt_views.TokenRefreshView):
    """Exchanges a refresh token for a new pair; the one sent is blacklisted and works no more."""

    serializer_class = RefreshSerializer
    throttle_classes = AUTH_THROTTLES
    throttle_scope = "refresh"


class LogoutView(jwt_views.TokenBlacklistView):
    """Revokes the refresh token sent (the access token expires by itself within minutes)."""

    throttle_classes = AUTH_THROTTLES
    throttle_scope = "refresh"


class PasswordChangeView(APIView):
    """Changes the password and revokes every refresh token issued before; returns a new pair."""

    throttle_classes = SIGNED_IN_THROTTLES
    throttle_scope = "password_change"

    @extend_schema(request=PasswordChangeSerializer, responses=TokenPairSerializer)
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        tokens = services.user_set_password(user=request.user, password=serializer.validated_data["new_password"])
        return Response(tokens)


class PasswordResetView(PublicAuthView):
    """Emails a reset link if the address has an account; answers the same either way."""

    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetSerializer, responses={202: None})
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If that address has an account, a reset link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class PasswordResetConfirmView(PublicAuthView):
    """Sets a new password from an emailed link's uid and token; every refresh token is revoked."""

    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetConfirmSerializer, responses=TokenPairSerializer)
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return Response(services.user_set_password(user=data["user"], password=data["new_password"]))


class EmailVerifyRequestView(APIView):
    """Emails the signed-in user a one-time link that confirms their address.

    Nothing requires it: an unverified address just gets only a few notices an hour."""

    throttle_classes = SIGNED_IN_THROTTLES
    throttle_scope = "email_verify"

    @extend_schema(request=None, responses={202: None})
    def post(self, request):
        sent = services.email_verification_request(user=request.user)
        detail = "A confirmation link is on its way." if sent else "This address is already confirmed."
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


class EmailVerifyView(PublicAuthView):
    """Confirms the address from an emailed link's uid and token (works once)."""

    throttle_scope = "email_verify"

    @extend_schema(request=EmailVerifySerializer, responses=UserSerializer)
    def post(self, request):
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(UserSerializer(services.email_verify(**serializer.validated_data)).data)


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = UserSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class AddressViewSet(viewsets.ModelViewSet):
    """The signed-in user's delivery addresses."""

    serializer_class = AddressSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Address.objects.none()
        return Address.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.address_save(
            address=Address(user=self.request.user, **serializer.validated_data)
        )

    def perform_update(self, serializer):
        address = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(address, field, value)
        services.address_save(address=address)
