"""Admin for orders. One module per area; each registers its own ModelAdmins (orders.py's
Order and Channel admins take the intake pages through mixins from intake.py)."""

from . import intake, orders  # noqa: F401
