"""Colleagues invited to the same SIREN or SIRET."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("colleagues", __name__, template_folder="templates")
