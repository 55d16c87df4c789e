"""Qualiopi evidence (indicators 2 and 30): a printable page and an XLSX."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("evidence", __name__, template_folder="templates")
