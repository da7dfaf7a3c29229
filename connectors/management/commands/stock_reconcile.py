"""`manage.py stock_reconcile CHANNEL [--fix]`: compare a channel's stock levels with ours."""

from django.core.management.base import BaseCommand, CommandError

from connectors.reconcile import ReconcileError, stock_reconcile
from connectors.stock import stock_drift_fix
from orders.models import Channel


class Command(BaseCommand):
    help = (
        "Read a connected channel's stock levels, list the SKUs where they differ from ours, "
        "and with --fix queue pushes of ours."
    )

    def add_arguments(self, parser):
        parser.add_argument("channel", help="The channel's code.")
        parser.add_argument(
            "--fix", action="store_true", help="Queue a push of our level for every drifted SKU."
        )

    def handle(self, *args, channel, fix, **options):
        found = Channel.objects.filter(code=channel).first()
        if found is None:
            raise CommandError(f"No channel has the code “{channel}”.")
        try:
            result = stock_reconcile(channel=found)
        except ReconcileError as exc:
            raise CommandError(str(exc)) from None
        if result.drift:
            width = max(len(d.sku) for d in result.drift)
            self.stdout.write(f"{'SKU':<{width}}  {'ours':>6}  {'theirs':>8}")
            for d in result.drift:
                theirs = "untracked" if d.theirs is None else str(d.theirs)
                self.stdout.write(f"{d.sku:<{width}}  {d.ours:>6}  {theirs:>8}")
        self.stdout.write(
            f"{found}: {result.checked} SKUs compared, {len(result.drift)} drifted; "
            f"{result.not_in_shop} of ours not in the shop, {result.unknown_to_us} of the shop's not ours."
        )
        if fix and result.drift:
            queued = stock_drift_fix(reconciliation=result)
            self.stdout.write(self.style.SUCCESS(f"{queued} pushes queued; the worker sends them."))
