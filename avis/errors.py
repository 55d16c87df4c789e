"""Error pages in the visitor's language."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("errors/http_error.html", error=error), error.code or 500
