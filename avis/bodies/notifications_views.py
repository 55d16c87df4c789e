"""The body's notification preferences and one-click unsubscribe."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("body_notifications", __name__, template_folder="templates")
