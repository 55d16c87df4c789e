"""Conditional GETs of API v1 answered before the application: WSGI middleware.

A partner's cache or a browser asks again with ``If-None-Match``; when the tag is that
of the answer kept in this worker's page cache, nothing has changed for as long as the
answer is kept, and the 304 is given here: no routing, no hooks, no rate-limit count
(the count would cost more than the answer), no view. Signed calls (an
``Authorization`` header) go through the application as any other, so that a bad
signature is still refused; so does any request this cannot answer.

The 304 carries what a cache needs to refresh its stored answer: the ETag, the same
``Cache-Control`` and ``Vary`` as the full answer, and CORS's header (browsers check it
on revalidations too). The other headers of the stored answer stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.http import parse_etags
from werkzeug.wrappers import Request

from avis.public.caching import api_key_of, cache, noted_etag

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

PREFIX = "/api/v1/"


class Revalidation:
    def __init__(self, app: Flask, wsgi_app: WSGIApplication, *, max_age: int) -> None:
        self.wsgi_app = wsgi_app
        self.enabled = bool(app.config["PAGE_CACHE_SECONDS"])
        # The storage itself: flask-caching's front needs an application context.
        self.store = app.extensions["cache"][cache]
        self.headers = [("Cache-Control", f"public, max-age={max_age}"), ("Vary", "Accept"),
                        ("Access-Control-Allow-Origin", "*")]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        asked = environ.get("HTTP_IF_NONE_MATCH")
        if (asked and self.enabled and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
                and environ.get("PATH_INFO", "").startswith(PREFIX)
                and "HTTP_AUTHORIZATION" not in environ):
            etag = noted_etag(api_key_of(Request(environ)), self.store)
            # If-None-Match compares weakly (RFC 9110, 13.1.2).
            if etag is not None and parse_etags(asked).contains_weak(etag):
                start_response("304 NOT MODIFIED",
                               [("ETag", f'"{etag}"'), *self.headers])
                return []
        return self.wsgi_app(environ, start_response)


def install(app: Flask, *, max_age: int) -> None:
    """Put the middleware in front of the application (after ``caching.init_app``)."""
    app.wsgi_app = Revalidation(app, app.wsgi_app, max_age=max_age)  # type: ignore[method-assign]


__all__ = ["Revalidation", "install"]
