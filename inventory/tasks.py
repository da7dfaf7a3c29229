"""Background jobs of inventory, run through django.tasks (a db_worker in production)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.tasks import task
from django.utils import timezone

from core.email import Email, email_send

from .selectors import stock_list_low

MANAGERS_GROUP = "Managers"


def low_stock_recipients() -> list[str]:
    """settings.MANAGER_EMAILS plus the e-mail of every active user in the Managers group."""
    users = get_user_model().objects.filter(is_active=True, groups__name=MANAGERS_GROUP).exclude(email="")
    addresses = [*settings.MANAGER_EMAILS, *users.values_list("email", flat=True)]
    return sorted({a.strip().lower(): a.strip() for a in addresses if a.strip()}.values())


@task
def send_low_stock_digest() -> int:
    """E-mail managers the stock items at or below their reorder point. Sends nothing when no
    item is low or nobody is listed to receive it. Returns the number of items listed."""
    items = stock_list_low()
    recipients = low_stock_recipients()
    if not items or not recipients:
        return 0
    context = {"items": items, "today": timezone.localdate(), "site_url": settings.SITE_URL}
    subject = f"Low stock: {len(items)} item{'s' if len(items) != 1 else ''} at or below reorder point"
    email_send(Email(name="low_stock_digest", subject=subject, to=recipients, context=context))
    return len(items)
