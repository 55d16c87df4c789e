"""Public pages of privacy: the notice, and the trainees' own erasure."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__, template_folder="templates")
