"""Verify the stock invariants (design.md 1-3) over every stock item, reservation and order line.

Two owners, composed here: inventory's own invariants come from inventory.selectors
(stock_list_discrepancies: on_hand equals the sum of the item's ledger, reserved equals its
active reservations, 0 <= reserved <= on_hand); the ones about orders from orders.selectors
(every allocated line's reserved plus shipped units equal its ordered quantity; no reservation is
held by an order that should hold none). The command lives in orders, not inventory, because only
orders may know both: inventory imports no app downstream of it.

Exits non-zero with a readable list of discrepancies when any invariant is broken.
"""

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_list_discrepancies
from orders.selectors import order_line_list_discrepancies, reservation_list_stale


class Command(BaseCommand):
    help = "Check that stock, reservations, the ledger and order lines agree."

    def handle(self, *args, **options):
        problems = stock_list_discrepancies() + order_line_list_discrepancies() + reservation_list_stale()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"{len(problems)} inventory discrepancies found.")
        self.stdout.write(
            self.style.SUCCESS("Inventory is consistent: ledger, reservations and orders agree.")
        )
