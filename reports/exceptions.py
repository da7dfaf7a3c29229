from core.exceptions import DomainError


class ExportNotAllowed(DomainError):
    """You don't have permission to export this data."""

    def __init__(self, *, export):
        super().__init__(f"You don't have permission to export {export.label}.")


class ExportRangeInvalid(DomainError):
    """The date range for the export is not valid."""
