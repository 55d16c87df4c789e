"""The monitoring's tables, one module per part."""

from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus, DigestOptOut
from avis.monitoring.models.funnel import (
    FunnelBodyCount,
    FunnelCount,
    FunnelCourseCount,
    FunnelMonthCount,
    FunnelRun,
)

__all__ = ["Alert", "AlertRule", "AlertStatus", "DigestOptOut", "FunnelBodyCount", "FunnelCount",
           "FunnelCourseCount",
           "FunnelMonthCount", "FunnelRun"]
