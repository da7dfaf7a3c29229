"""Exports in the admin, and the export log.

Reports sits at the top of the import chain, so it brings its exports to the other apps' admin
lists itself (those apps never import reports): `reports_admin_extend`, called from the app's
ready(), gives each list named as an export's `admin_model` an action per export ("Export … of
selected as CSV") and a link in its object tools that exports the whole filtered list (see
views.export_changelist).
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.views.main import PAGE_VAR
from django.urls import reverse

from core.admin_extensions import ChangelistAction, ChangelistLink, admin_extend
from core.admin_mixins import WritesMixin

from .exceptions import ExportNotAllowed
from .exports import EXPORTS, ExportKind
from .models import ExportLog
from .services import EXPORT_PERMISSION, export_user_can
from .views import BOM_PARAM, export_response


def _selection(request) -> str:
    filters = request.GET.urlencode()
    if request.POST.get("select_across") == "1":
        chosen = "all matching"
    else:
        chosen = f"{len(request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME))} selected"
    return f"{filters} [{chosen}]" if filters else f"[{chosen}]"


def export_action(export: ExportKind) -> ChangelistAction:
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

    return ChangelistAction(
        name=f"export_{export.name}_csv",
        function=export_selected,
        description=f"Export {export.label} of selected as CSV",
        permission=EXPORT_PERMISSION,
    )


@dataclass(frozen=True)
class ExportLinks:
    """The "… CSV" link of an export in its list's object tools, keeping the list's filters and
    search, with an "(Excel)" link beside it (the same with a UTF-8 BOM)."""

    export: ExportKind

    def __call__(self, request, changelist):
        if not export_user_can(user=request.user, export=self.export):
            return
        query = changelist.get_query_string(remove=[PAGE_VAR]).lstrip("?")
        url = reverse("reports:export", args=[self.export.name]) + (f"?{query}" if query else "")
        bom_url = url + ("&" if query else "?") + f"{BOM_PARAM}=1"
        yield ChangelistLink(
            f"{self.export.label.capitalize()} CSV",
            url,
            title="Every row of the filtered list, as CSV",
            css_class="viewlink",
            more=(ChangelistLink("(Excel)", bom_url, title="The same with a UTF-8 BOM, for Excel"),),
        )


def reports_admin_extend() -> None:
    """Every export's action and link on its admin list."""
    for export in EXPORTS.values():
        admin_extend(
            export.admin_model,
            changelist_actions=[export_action(export)],
            changelist_links=[ExportLinks(export)],
        )


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
    # The user by name, not as a link: managers read the log, the user pages are the superuser's.
    readonly_fields = ["kind", "user_name", "source", "query", "row_count", "started_at", "finished_at"]
    fields = readonly_fields

    @admin.display(description="User")
    def user_name(self, log):
        return log.user.get_username() if log.user else "—"

    @admin.display(description="Filters and selection")
    def query_short(self, log):
        return log.query if len(log.query) <= 80 else log.query[:79] + "…"
