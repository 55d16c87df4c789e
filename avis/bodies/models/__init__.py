"""The body space's tables, one module per part."""

from avis.bodies.models import notifications, reads

__all__ = ["notifications", "reads"]
