"""Admin for orders. One module per area; each registers its own ModelAdmins. Intake's pages
on the Order and Channel admins are added with admin_extend (intake.intake_admin_extend, called
from OrdersConfig.ready())."""

from . import intake, orders  # noqa: F401
