"""Error pages in the visitor's language, each saying what happened and what to do next."""

from __future__ import annotations

import math
import time

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from avis.security import limiter


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)


def http_error(error: HTTPException) -> ResponseReturnValue:
    """Any HTTP error (a view's ``abort``, an unknown URL, an unhandled exception as 500)."""
    code = error.code or 500
    # Keep what the error tells the client (``Allow`` for 405, ``Retry-After``…).
    headers = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
    retry_after = _retry_after(error, headers.get("Retry-After"))
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if request.path.startswith("/api/"):
        # API clients read JSON, as ANOTEA's returned, for unknown paths too.
        from avis.api.views import error_response

        response = error_response(code, error.name, error.description or error.name)
        response.headers.extend(headers)
        return response
    return render_template(
        "errors/http_error.html", error=error, code=code,
        retry_minutes=math.ceil(retry_after / 60) if retry_after else 1,
    ), code, headers


def csrf_error(error: CSRFError) -> ResponseReturnValue:
    """A form whose CSRF token is missing, expired or from another session.

    Most often the page stayed open longer than ``WTF_CSRF_TIME_LIMIT``, or the browser
    session ended: loading the form again gives a fresh token.
    """
    return render_template("errors/csrf.html", error=error, form_url=request.path), 400


def _retry_after(error: HTTPException, header: str | None) -> int | None:
    """Seconds until the client may try again: until the breached rate limit resets."""
    if isinstance(error, RateLimitExceeded):
        breached = limiter.current_limit
        if breached is not None:
            return max(1, math.ceil(breached.window.reset_time - time.time()))
    if header is not None and header.isdigit():
        return int(header)
    return None
