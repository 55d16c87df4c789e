"""The SendGrid signed event webhook."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mail_webhook", __name__)
