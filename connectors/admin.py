"""The connectors' admin pages, one module per package; the admin finds them here."""

from .subscribers import admin as subscribers_admin  # noqa: F401  registers SubscriptionAdmin
