"""Admin for orders: orders, channels, holds (orders.py). Intake adds its pages to the Order and
Channel admins with admin_extend (intake.admin.intake_admin_extend, called from
IntakeConfig.ready())."""

from . import orders  # noqa: F401
