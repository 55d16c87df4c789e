"""The body's reviews: read, replied to, reported."""

from __future__ import annotations

from avis.admin import admin_blueprint

bp = admin_blueprint("body_reviews", __name__, template_folder="templates")
