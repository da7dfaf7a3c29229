"""Exports in the admin, and the export log.

Reports sits at the top of the import chain, so it brings its exports to the other apps' admin
lists itself (those apps never import reports): each list named as an export's `admin_model`
gets an action per export ("Export … of selected as CSV"), and its object tools get a link that
exports the whole filtered list (see views.export_changelist and the
change_list_object_tools.html templates).
"""

from django.contrib import admin, messages

from core.admin_mixins import WritesMixin

from .exceptions import ExportNotAllowed
from .exports import EXPORTS, ExportKind
from .models import ExportLog
from .services import EXPORT_PERMISSION
from .views import export_response


def _selection(request) -> str:
    filters = request.GET.urlencode()
    if request.POST.get("select_across") == "1":
        chosen = "all matching"
    else:
        chosen = f"{len(request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME))} selected"
    return f"{filters} [{chosen}]" if filters else f"[{chosen}]"


def make_export_action(export: ExportKind):
    """An admin action that streams `export` for the selected rows of the list it sits on."""

    def export_selected(modeladmin, request, queryset):
        try:
            return export_response(
                request=request,
                export=export,
                queryset=export.from_admin(queryset),
                query=_selection(request),
            )
        except ExportNotAllowed as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
            return None

    export_selected.__name__ = f"export_{export.name}_csv"
    return admin.action(description=f"Export {export.label} of selected as CSV", permissions=["export_csv"])(
        export_selected
    )


def _has_export_csv_permission(request) -> bool:
    return request.user.has_perm(EXPORT_PERMISSION)


def install_export_actions(site: admin.AdminSite = admin.site) -> None:
    """Add an export action per export to the admin list each export belongs to.

    Idempotent. Sets `has_export_csv_permission` on the ModelAdmin instance, which Django's
    action permission check looks up by name.
    """
    for export in EXPORTS.values():
        model_admin = site._registry.get(export.admin_model)
        if model_admin is None:
            continue
        action = make_export_action(export)
        current = list(model_admin.actions or [])
        names = {getattr(a, "__name__", a) for a in current}
        if action.__name__ not in names:
            model_admin.actions = [*current, action]
        model_admin.has_export_csv_permission = _has_export_csv_permission


@admin.register(ExportLog)
class ExportLogAdmin(WritesMixin, admin.ModelAdmin):
    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = ["started_at", "kind", "user", "source", "row_count", "finished_at", "query_short"]
    list_filter = ["kind", "source", ("started_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "query"]
    list_select_related = ["user"]
    date_hierarchy = "started_at"
    show_full_result_count = False
    readonly_fields = ["kind", "user", "source", "query", "row_count", "started_at", "finished_at"]

    @admin.display(description="Filters and selection")
    def query_short(self, log):
        return log.query if len(log.query) <= 80 else log.query[:79] + "…"


install_export_actions()
