"""Switch off the webhook subscriptions that have failed for days (cron: daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from connectors.subscribers.services import subscriptions_switch_off_failing


class Command(BaseCommand):
    help = (
        "Switch off every webhook subscription none of whose deliveries got through for "
        "OMS_SUBSCRIPTION_DISABLE_AFTER_DAYS, and e-mail its owner and MANAGER_EMAILS (daily)."
    )

    def handle(self, *args, **options):
        switched = subscriptions_switch_off_failing()
        days = settings.OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"]
        for subscription in switched:
            self.stdout.write(
                f"Switched off “{subscription.name}” ({subscription.url}): failing for {days:g} days."
            )
        self.stdout.write(f"{len(switched)} subscriptions switched off.")
