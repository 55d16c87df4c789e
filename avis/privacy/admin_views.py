"""Erasure and access requests handled by admins in the back office."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("privacy_admin", __name__, template_folder="templates")
