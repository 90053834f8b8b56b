import unicodedata

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

phone_validator = RegexValidator(r"^\+?[0-9]{10,15}$", "Enter a phone number of 10 to 15 digits, optionally with +.")
pin_code_validator = RegexValidator(r"^[1-9][0-9]{5}$", "Enter a 6-digit PIN code.")


def canonical_email(address: str) -> str:
    """The one form of an address used to store it, look it up and key its throttles.

    NFKC folds compatibility characters (U+017F long s becomes ``s``), then lower().
    Lookups compare this form exactly, so they use the unique index, and no spelling
    the database would fold (its UPPER() maps U+0131 dotless i to ``I``) reaches an
    account by another name.
    """
    return unicodedata.normalize("NFKC", address.strip()).lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=canonical_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email=canonical_email(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or staff member, who signs in with an email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[phone_validator])
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin and manage the catalogue.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Tokens issued before this moment are refused (users.authentication).
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the owner opened the emailed verification link; until then the address gets
    # only a few notices an hour (notifications.services).
    email_verified_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        # Django keeps the raw password in _password from set_password() until the save;
        # a hasher upgrade at login clears it first, so only a real change counts here.
        if self._password is not None:
            self.password_changed_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "password" in update_fields:
                kwargs["update_fields"] = {*update_fields, "password_changed_at"}
        super().save(*args, **kwargs)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def issued_before_password_change(self, issued_at: int | None) -> bool:
        """Whether a token issued at ``issued_at`` (epoch seconds) predates the last password change."""
        if self.password_changed_at is None or issued_at is None:
            return False
        return issued_at < int(self.password_changed_at.timestamp())


class Address(models.Model):
    """A delivery address; orders copy it, so later edits never change past orders."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=40, default="Home")
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100)
    pin_code = models.CharField("PIN code", max_length=6, validators=[pin_code_validator])
    phone = models.CharField(max_length=16, blank=True, validators=[phone_validator])
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.one_line()}"

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, f"{self.state} {self.pin_code}"]
        return ", ".join(part for part in parts if part)
