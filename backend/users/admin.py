import math

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.shortcuts import render
from rest_framework_simplejwt.token_blacklist import admin as token_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from desideliver_backend.throttling import ClientAddressThrottle, ScopedThrottle, ThrottleUnavailable, hashed

from .models import Address, User, canonical_email


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "phone", "is_staff", "is_active", "email_verified_at", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name", "phone"]
    inlines = [AddressInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "phone"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined", "email_verified_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "city", "state", "pin_code", "is_default"]
    list_filter = ["state", "is_default"]
    search_fields = ["user__email", "line1", "city", "pin_code"]
    raw_id_fields = ["user"]


class SuperuserOnlyTokenAdmin:
    """simplejwt's token tables: visible to superusers only, and never the raw token
    (an outstanding refresh token is a working credential)."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != "token"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "token"]


for _model, _admin_class in [
    (OutstandingToken, token_admin.OutstandingTokenAdmin),
    (BlacklistedToken, token_admin.BlacklistedTokenAdmin),
]:
    admin.site.unregister(_model)
    admin.site.register(_model, type(_admin_class.__name__, (SuperuserOnlyTokenAdmin, _admin_class), {}))


class _AdminLoginScope:
    throttle_scope = "admin_login"  # DRF's scoped throttles read it from the view


class AdminAccountThrottle(ScopedThrottle):
    kind = "account"

    def identity(self, request, view):
        username = request.POST.get("username")
        return hashed(canonical_email(username)) if isinstance(username, str) and username.strip() else None


def admin_login(request, **kwargs):
    """The admin's sign-in page behind the same two throttles as /api/auth/login/
    (per client address, per account, scope ``admin_login``): over the rate, a
    lockout page with Retry-After instead of another guess."""
    if request.method == "POST":
        waits = []
        try:
            for throttle in (ClientAddressThrottle(), AdminAccountThrottle()):
                if not throttle.allow_request(request, _AdminLoginScope()):
                    waits.append(throttle.wait() or 60)
        except ThrottleUnavailable:
            waits, status = [ThrottleUnavailable.wait], 503
        else:
            status = 429
        if waits:
            wait = math.ceil(max(waits))
            context = {**admin.site.each_context(request), "title": "Too many sign-in attempts", "wait": wait}
            response = render(request, "admin/login_locked.html", context, status=status)
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, **kwargs)
