from dataclasses import dataclass

from core.exceptions import DomainError


@dataclass(frozen=True)
class Shortfall:
    product_id: int
    sku: str
    requested: int
    available: int


class InsufficientStock(DomainError):
    """Not enough available stock."""

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        parts = ", ".join(f"{s.sku}: {s.available} of {s.requested}" for s in shortfalls)
        super().__init__(f"Not enough stock ({parts}).")


class StockMovementRefused(DomainError):
    """That stock movement would leave the item below its reservations or below zero."""


class ReceiptError(DomainError):
    """That receipt can't be recorded."""
