from django.db import transaction

from .models import Address, User


@transaction.atomic
def address_save(*, address: Address) -> Address:
    """Saves an address; making it the default unsets the user's previous default.

    The user's row is locked first, so two saves for one user run one after the
    other: two "first address" requests at once give one default, not a conflict.
    """
    User.objects.select_for_update().filter(pk=address.user_id).exists()
    user_addresses = Address.objects.filter(user=address.user)
    if address.is_default:
        user_addresses.exclude(pk=address.pk).filter(is_default=True).update(is_default=False)
    elif not user_addresses.exclude(pk=address.pk).exists():
        address.is_default = True  # a user's first address is their default
    address.save()
    return address


def user_register(*, email: str, password: str, full_name: str = "", phone: str = "") -> User:
    return User.objects.create_user(email=email, password=password, full_name=full_name, phone=phone)
