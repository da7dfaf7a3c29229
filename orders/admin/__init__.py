"""Admin for orders. One module per area; each registers its own ModelAdmins."""

from . import (
    intake,  # noqa: F401,E402  after orders: it extends the Channel and Order admins
    orders,  # noqa: F401
)
