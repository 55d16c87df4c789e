"""What a trainee reaches from an email: the survey link and the unsubscribe page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("surveys", __name__, template_folder="templates")
