"""Protections every request gets: CSRF tokens, rate limits, body size, security headers.

``init_app(app)`` installs them all, once the blueprints are registered. Views opt out
of a default with a decorator of this module, never by editing the defaults:

- ``@frameable``: the page may be shown in a frame by any site (the partner widget);
- ``@accepts_body(max_bytes)``: a request body larger than ``MAX_BODY_BYTES`` is read;
- ``@csrf.exempt``: no CSRF token (only for requests that carry no browser session).

Rate limits use Flask-Limiter's ``limiter`` (``@limiter.limit("5 per minute")`` on a
view). Its counters live in ``AVIS_RATELIMIT_STORAGE_URL``: the default ``memory://``
counts per process, so that with several processes (gunicorn workers, several machines)
each one allows the full rate and the limits multiply; give them a shared
``redis://host:6379`` storage instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, has_app_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from limits.errors import ConfigurationError
from limits.storage import Storage
from limits.strategies import RateLimiter

from avis.config import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

#: CSRF tokens on every POST, except the views exempted where they are defined (the
#: provider webhook, RFC 8058 one-click unsubscribe): those carry no browser session.
csrf = CSRFProtect()

#: A request body larger than this is refused with 413 before anything reads it: a
#: questionnaire with long comments is a few kilobytes.
MAX_BODY_BYTES = 256 * 1024
#: SendGrid posts events in batches of up to a few thousand.
WEBHOOK_MAX_BODY_BYTES = 5 * 1024 * 1024
#: A trainee may leave the questionnaire open for a long while before sending it.
CSRF_TIME_LIMIT_SECONDS = 6 * 60 * 60

#: The policy of every page; no ``unsafe-inline``: no inline script or ``style=``.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
HSTS = "max-age=31536000"

#: The survey views whose URL holds a token: their lookups share one limit per address.
TOKEN_LOOKUP_ENDPOINTS = ("surveys.survey_link", "surveys.unsubscribe")
#: Views that accept a larger body, defined in modules that do not import this one.
LARGER_BODIES = {"mail_webhook.sendgrid_events": WEBHOOK_MAX_BODY_BYTES}

_FRAMEABLE = "_avis_frameable"
_MAX_BODY = "_avis_max_body_bytes"
_EXTENSION = "avis.ratelimit"


class _PerAppLimiter(Limiter):
    """A ``Limiter`` whose counters belong to the application serving the request.

    Flask-Limiter keeps one storage per extension object and replaces it at each
    ``init_app``. avis builds several applications in one process (tests, commands),
    so each keeps its own storage, and one application's counters never reach another.
    """

    def init_app(self, app: Flask) -> None:
        # Our setting's name predates Flask-Limiter's (``…_URI``).
        app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URL"]
        app.config.setdefault("RATELIMIT_ENABLED", True)
        try:
            super().init_app(app)
        except ConfigurationError as error:  # unknown scheme, or its client not installed
            raise ConfigError(f"AVIS_RATELIMIT_STORAGE_URL="
                              f"{app.config['RATELIMIT_STORAGE_URL']!r}: {error}") from None
        app.extensions[_EXTENSION] = (self._storage, self._limiter)

    @property
    def storage(self) -> Storage:
        if has_app_context() and _EXTENSION in current_app.extensions:
            storage: Storage = current_app.extensions[_EXTENSION][0]
            return storage
        return super().storage

    @property
    def limiter(self) -> RateLimiter:
        if has_app_context() and _EXTENSION in current_app.extensions:
            strategy: RateLimiter = current_app.extensions[_EXTENSION][1]
            return strategy
        return super().limiter


#: Per client address (``request.remote_addr``: behind a proxy, have the WSGI server or
#: ``ProxyFix`` set it from ``X-Forwarded-For``, or every visitor shares one counter).
#: A storage outage lets requests through (and is logged) rather than failing them all.
limiter = _PerAppLimiter(key_func=get_remote_address, strategy="fixed-window",
                         key_prefix="avis", swallow_errors=True)


def _survey_rate_limit() -> str:
    return str(current_app.config["SURVEY_RATE_LIMIT"])


#: Guessing tokens through either URL counts against the same budget.
_token_lookup_limit = limiter.shared_limit(_survey_rate_limit, scope="survey-token")


def frameable(view: F) -> F:
    """Let any site show this view's pages in a frame (``frame-ancestors *``).

    Only for pages meant to be embedded by partner sites, which hold no form and no
    personal data: a framed page can be overlaid to trick a click (clickjacking).
    """
    setattr(view, _FRAMEABLE, True)
    return view


def accepts_body(max_bytes: int | Callable[[], int]) -> Callable[[F], F]:
    """Let this view read a request body of up to ``max_bytes`` instead of ``MAX_BODY_BYTES``
    (a function when a setting gives the size: it is called per request)."""

    def decorate(view: F) -> F:
        setattr(view, _MAX_BODY, max_bytes)
        return view

    return decorate


def init_app(app: Flask) -> None:
    """Install CSRF protection, rate limits, body limits and headers on ``app``.

    Call it after the blueprints are registered: it limits some of their views.
    """
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        WTF_CSRF_TIME_LIMIT=CSRF_TIME_LIMIT_SECONDS,
        # create_app sets SESSION_COOKIE_SAMESITE (Lax) and SESSION_COOKIE_SECURE (https).
        SESSION_COOKIE_HTTPONLY=True,
    )
    for endpoint, max_bytes in LARGER_BODIES.items():
        accepts_body(max_bytes)(_registered(app, endpoint))
    # Before CSRFProtect's hook, which reads the form.
    app.before_request(_set_body_limit)
    limiter.init_app(app)
    # Limits are only those of the decorated views, which check them themselves. The
    # extension's per-request hook would evaluate no limit on every other request, at
    # a cost of about a tenth of a questionnaire page's CPU: remove it.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    for endpoint in TOKEN_LOOKUP_ENDPOINTS:
        app.view_functions[endpoint] = _token_lookup_limit(_registered(app, endpoint))
    csrf.init_app(app)
    app.after_request(_add_security_headers)


def _registered(app: Flask, endpoint: str) -> Callable[..., Any]:
    """The view of ``endpoint``; a renamed view must not silently lose its protection."""
    try:
        return app.view_functions[endpoint]
    except KeyError:
        raise RuntimeError(f"avis.security: no view {endpoint!r}: update security.py") from None


def _is_https(app: Flask) -> bool:
    return str(app.config["BASE_URL"]).startswith("https://")


def _view() -> Callable[..., Any] | None:
    return current_app.view_functions.get(request.endpoint or "")


def _set_body_limit() -> None:
    """Refuse a body too large at once, before any view looks anything up."""
    max_bytes = getattr(_view(), _MAX_BODY, None)
    if callable(max_bytes):
        max_bytes = max_bytes()
    if max_bytes is not None:
        request.max_content_length = max_bytes
    limit = request.max_content_length
    if limit is None:
        return
    declared = request.content_length
    if declared is not None and declared > limit:
        abort(413)
    # A body without Content-Length (chunked): Werkzeug stops reading it at the limit
    # *silently*, and a form would be parsed cut short. Read it here, up to the limit
    # (kept for the view), and refuse it if it reaches the limit.
    if declared is None and request.environ.get("wsgi.input_terminated") \
            and len(request.get_data(cache=True)) >= limit:
        abort(413)


def _add_security_headers(response: Response) -> Response:
    """Add each header the view has not set itself: a view's own (stricter) value wins."""
    policy = dict(CONTENT_SECURITY_POLICY)
    framed = getattr(_view(), _FRAMEABLE, False)
    if framed:
        policy["frame-ancestors"] = "*"
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       "; ".join(f"{name} {value}" for name, value in policy.items()))
    if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
        # For browsers that predate CSP's frame-ancestors.
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if _is_https(current_app):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
