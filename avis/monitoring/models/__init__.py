"""The monitoring's tables, one module per part."""

from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus, DigestOptOut

__all__ = ["Alert", "AlertRule", "AlertStatus", "DigestOptOut"]
