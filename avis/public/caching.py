"""Rendered public pages kept a little while in each worker's memory.

Everyone sees the same body page, search and comparison, and their numbers change
when the hourly aggregation runs: rendering them again for every visitor is waste.
Pages are kept ``PAGE_CACHE_SECONDS`` (60 by default; 0 turns this off) per URL and
language. Not kept: a request choosing its language (it sets a cookie), and refused
requests (400). Browsers and proxies may keep pages longer (``Cache-Control``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from flask_babel import get_locale
from flask_caching import Cache

F = TypeVar("F", bound=Callable[..., Any])

cache = Cache()
#: Pages kept at most per worker.
CACHE_THRESHOLD = 1000
#: The ETag of a kept API answer is kept under its key with this prefix.
_ETAG_PREFIX = "etag:"


def init_app(app: Flask) -> None:
    cache.init_app(app, config={
        # With 0 seconds every request skips the cache (``_skip``): 0 would mean
        # "forever" to the cache itself.
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": app.config["PAGE_CACHE_SECONDS"] or 1,
        # About 20 KB a page: at most some 20 MB per worker.
        "CACHE_THRESHOLD": CACHE_THRESHOLD,
    })


def _key(*_args: Any, **_view_args: Any) -> str:
    return f"page:{get_locale()}:{request.full_path}"


def _skip() -> bool:
    return "lang" in request.args or not current_app.config["PAGE_CACHE_SECONDS"]


def _cacheable(result: Any) -> bool:
    """A view returns the page alone when all went well; with a status otherwise."""
    return not isinstance(result, tuple)


def cached_page(view: F) -> F:
    return cache.cached(make_cache_key=_key, unless=_skip, response_filter=_cacheable)(view)


def api_key_of(asked: Request) -> str:
    """The key of an API answer: JSON or JSON-LD (the same URL answers both), and the
    URL. Also read by ``avis.api.revalidation`` outside Flask, from its own request."""
    wanted = asked.accept_mimetypes.best_match(["application/json", "application/ld+json"])
    return f"api:{wanted}:{asked.full_path}"


def _api_key(*_args: Any, **_view_args: Any) -> str:
    return api_key_of(request)


def noted_etag(key: str, store: Any = None) -> str | None:
    """The ETag of the API answer kept under ``key``, if it is still kept. ``store``:
    the cache's storage, for callers outside an application context."""
    etag = (store if store is not None else cache).get(_ETAG_PREFIX + key)
    return etag if isinstance(etag, str) else None


def _api_skip() -> bool:
    return not current_app.config["PAGE_CACHE_SECONDS"]


def _api_cacheable(result: Any) -> bool:
    """Only successful answers; errors are raised, never returned. The ETag of a kept
    answer is kept beside it, set just before it (so it never outlives the answer, and a
    cleared cache forgets both), for ``cached_api``'s early 304."""
    if getattr(result, "status_code", None) != 200:
        return False
    result.add_etag()
    cache.set(_ETAG_PREFIX + _api_key(), result.get_etag()[0])
    return True


def cached_api(view: F) -> F:
    """An API answer kept ``PAGE_CACHE_SECONDS`` per URL and media type: the same for
    every client (rate limits are counted before). A conditional GET whose ETag is the
    kept answer's gets its 304 before anything else is done: no view, no copy of the
    answer out of the cache, no hash of it."""
    kept = cache.cached(make_cache_key=_api_key, unless=_api_skip,
                        response_filter=_api_cacheable)(view)

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        if request.if_none_match and not _api_skip():
            etag = noted_etag(_api_key())
            if etag is not None and request.if_none_match.contains_weak(etag):
                response = current_app.response_class(status=304)
                response.set_etag(etag)
                return response
        return kept(*args, **kwargs)

    return answer  # type: ignore[return-value]
