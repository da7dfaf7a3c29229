"""The connectors' models, one module per package; Django finds them here."""

from .subscribers.models import StockLowMark, Subscription

__all__ = ["StockLowMark", "Subscription"]
