"""The body's home: its figures, trend and peers, per establishment."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("body_home", __name__, template_folder="templates")
