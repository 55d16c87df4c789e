"""``/dev/mailbox``: the file backend's mailbox, for development only."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dev_mailbox", __name__, template_folder="templates", url_prefix="/dev")
