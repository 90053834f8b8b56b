from celery import shared_task

from . import services


@shared_task(name="orders.tasks.cancel_stale_pending_orders")
def cancel_stale_pending_orders() -> int:
    return services.orders_cancel_stale_pending()
