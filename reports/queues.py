"""The managers' links on the staff home page (core.admin_home), registered from apps.py: the
KPI dashboard, and every admin list that exports CSV (its "… CSV" links export the list as it
is filtered, so a manager chooses the rows there rather than downloading whole tables here)."""

from core.admin_home import MANAGERS, home_queue_register

from .exports import EXPORTS
from .services import EXPORT_PERMISSION


def register_home_queues() -> None:
    home_queue_register(
        section=MANAGERS,
        title="KPI dashboard",
        url="reports:dashboard",
        permission="reports.view_dashboard",
        order=10,
    )
    lists = {}
    for export in EXPORTS.values():
        lists.setdefault(export.admin_model, []).append(export)
    for order, (model, exports) in enumerate(lists.items(), start=100):
        opts = model._meta
        home_queue_register(
            section=MANAGERS,
            title=str(opts.verbose_name_plural).capitalize(),
            help="Its CSV exports: " + ", ".join(e.label for e in exports),
            url=f"admin:{opts.app_label}_{opts.model_name}_changelist",
            # Every list here exports its own rows, so these two show at least one CSV link.
            permission=(EXPORT_PERMISSION, f"{opts.app_label}.view_{opts.model_name}"),
            order=order,
            group="CSV exports",
        )
