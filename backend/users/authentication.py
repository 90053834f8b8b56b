"""JWT authentication that also refuses tokens issued before the user's last password change.

A password change or reset revokes refresh tokens at once (users.services); access
tokens are not stored anywhere, so this check is what stops one stolen before the
change from working for the rest of its lifetime. The comparison is in whole
seconds (a token's ``iat``), so a token issued in the same second as the change
still passes.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed


class JWTAuthentication(SimpleJWTAuthentication):
    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if user.issued_before_password_change(validated_token.get("iat")):
            raise AuthenticationFailed("The password was changed after this token was issued.", code="password_changed")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI schema describes it as simplejwt's bearer scheme."""

    target_class = "users.authentication.JWTAuthentication"
