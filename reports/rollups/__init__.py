"""The KPI dashboard's daily rollups: services.py writes them (refresh, rebuild), sql.py holds
the SQL pieces. The dashboard reads them in reports.selectors."""

from .services import (
    BATCH_DAYS,
    REFRESH_OVERLAP,
    ROLLUP_VERSION,
    RefreshResult,
    kpi_changed_days,
    kpi_days_refresh,
    kpi_rebuild,
    kpi_refresh,
    kpi_refresh_within,
)
from .sql import LEAD_BANDS

__all__ = [
    "BATCH_DAYS",
    "LEAD_BANDS",
    "REFRESH_OVERLAP",
    "ROLLUP_VERSION",
    "RefreshResult",
    "kpi_changed_days",
    "kpi_days_refresh",
    "kpi_rebuild",
    "kpi_refresh",
    "kpi_refresh_within",
]
