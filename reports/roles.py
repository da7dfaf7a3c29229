"""What each staff group may do in reports (gathered by core.roles). Reports: managers export and read
the dashboard."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Managers": [
        "reports.export_data",
        "reports.view_dashboard",
        "reports.view_exportlog",
    ],
}
