"""E-mail about subscriptions: the owner (and managers) hear when one is switched off."""

from django.conf import settings
from django.tasks import task

from core.email import Email, email_after_commit, email_send
from core.models import Delivery

from .models import Subscription


def _recipients(subscription: Subscription) -> list[str]:
    addresses = [subscription.owner_email, *settings.MANAGER_EMAILS]
    return sorted({a.strip().lower(): a.strip() for a in addresses if a and a.strip()}.values())


@task()
def subscription_switched_off_email(subscription_id: int) -> int:
    """Tell the owner and MANAGER_EMAILS that a subscription was switched off, why, and what
    waits for it. Sends nothing if it was switched on again meanwhile. Returns the number of
    recipients."""
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None or subscription.is_active:
        return 0
    recipients = _recipients(subscription)
    if not recipients:
        return 0
    deliveries = Delivery.objects.filter(target=subscription.target)
    context = {
        "subscription": subscription,
        "waiting": deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.PAUSED]).count(),
        "dead": deliveries.filter(status=Delivery.Status.DEAD).count(),
        "admin_url": settings.SITE_URL + subscription.get_absolute_url(),
        "deliveries_url": f"{settings.SITE_URL}/admin/core/delivery/?target={subscription.target}",
    }
    email_send(
        Email(
            name="subscription_switched_off",
            subject=f"Webhook subscription “{subscription.name}” switched off",
            to=recipients,
            context=context,
            html=False,
        )
    )
    return len(recipients)


def subscription_switched_off_notify(*, subscription_id: int) -> None:
    """Queue the e-mail to go once the switching off commits."""
    email_after_commit(subscription_switched_off_email, subscription_id=subscription_id)
