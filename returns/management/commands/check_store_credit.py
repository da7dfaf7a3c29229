"""Verify the store-credit invariant: every credit's balance is its initial amount less the sum
of its redemptions (0 <= balance <= initial is enforced by CHECK constraints).

Exits non-zero with a readable list of discrepancies when it is broken.
"""

from django.core.management.base import BaseCommand, CommandError

from returns.selectors import store_credit_list_discrepancies


class Command(BaseCommand):
    help = "Check that every store credit's balance matches its issued amount and redemptions."

    def handle(self, *args, **options):
        problems = store_credit_list_discrepancies()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"{len(problems)} store credit discrepancies found.")
        self.stdout.write(self.style.SUCCESS("Store credit is consistent: balances match their redemptions."))
