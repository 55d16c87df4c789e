"""Signed calls of partners (ANOTEA's ``ANOTEA-HMAC-SHA256`` scheme) and API rate limits.

A partner sends ``Authorization: ANOTEA-HMAC-SHA256 <key>:<timestamp ms>:<hex digest>``,
the digest being the HMAC-SHA256, with its secret, of ``timestamp + METHOD + path (with
its query) + body``. A signed call is counted against the partner's own, higher limit;
an unsigned one against its address's. A header present but wrong is refused (401)
rather than served anonymously: the partner must learn that its signing is broken.
Timestamps are checked both ways: a clock more than ``MAX_SKEW`` ahead is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter.util import get_remote_address

from avis.security import limiter

SCHEME = "ANOTEA-HMAC-SHA256 "
#: How far a signature's timestamp may be from our clock, in seconds (ANOTEA: 300).
MAX_SKEW = 300


class Unauthorized(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def digest(secret: str, timestamp: str, method: str, path: str, body: bytes = b"") -> str:
    message = f"{timestamp}{method.upper()}{path}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_path() -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def authenticate() -> None:
    """Set ``g.api_key`` for a valid signed call; raise ``Unauthorized`` for a bad one."""
    g.api_key = None
    header = request.headers.get("Authorization")
    if header is None or not header.startswith(SCHEME):
        return
    key, _, rest = header[len(SCHEME):].partition(":")
    timestamp, _, signature = rest.partition(":")
    secret = current_app.config["API_KEYS"].get(key)
    if secret is None:
        raise Unauthorized("Clé d'API inconnue")
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > MAX_SKEW * 1000:
        raise Unauthorized(f"Le header Authorization est expiré ou daté du futur "
                           f"(durée de vie {MAX_SKEW} s)")
    expected = digest(secret, timestamp, request.method, signed_path(), request.get_data())
    if not hmac.compare_digest(expected, signature.lower()):
        raise Unauthorized("Signature invalide")
    g.api_key = key


def _limit() -> str:
    key = g.get("api_key")
    config = current_app.config
    return str(config["API_PARTNER_RATE_LIMIT"] if key else config["API_RATE_LIMIT"])


def _client() -> str:
    key = g.get("api_key")
    return f"key:{key}" if key else f"ip:{get_remote_address()}"


#: Every API view counts against one budget per client (partner key or address).
api_limit = limiter.shared_limit(_limit, scope="api", key_func=_client)


#: Answers that depend on who asks: never kept in the cache.
PERSONAL_ENDPOINTS = frozenset({"api.ping_authenticated"})


def init_app(app: Flask) -> None:
    """Count every API view against the client's budget (after ``security.init_app``),
    and keep their answers in the page cache."""
    from avis.public.caching import cached_api

    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api."):
            kept = view if endpoint in PERSONAL_ENDPOINTS else cached_api(view)
            app.view_functions[endpoint] = api_limit(kept)


def unauthorized(error: Unauthorized) -> Response:
    from avis.api.views import error_response

    response = error_response(401, "Unauthorized", error.message)
    response.headers["WWW-Authenticate"] = SCHEME.strip()
    return response
