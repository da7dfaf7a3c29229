"""Admin for orders. One module per area; each registers its own ModelAdmins."""

from . import orders  # noqa: F401
