"""The monitoring's tables, one module per part."""

from avis.monitoring.models.funnel import FunnelCount, FunnelMonthCount, FunnelRun

__all__ = ["FunnelCount", "FunnelMonthCount", "FunnelRun"]
