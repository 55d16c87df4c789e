"""Languages: French by default, English when asked for (``?lang=en``) or preferred."""

from __future__ import annotations

from flask import Flask, request, session, url_for
from flask_babel import Babel, get_locale, refresh

LANGUAGES = ("fr", "en")

babel = Babel()


def select_locale() -> str:
    """``?lang=`` wins and is remembered; then the session; then ``Accept-Language``."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES, default="fr") or "fr"


def lang_url(lang: str) -> str:
    """This page in language ``lang``: on public pages, the same URL with its query (a
    search keeps its words); elsewhere the relative ``?lang=``, which never writes a
    survey link's token into the page."""
    if request.blueprint != "public" or request.endpoint is None or request.method != "GET":
        return f"?lang={lang}"
    args = request.args.copy()
    args["lang"] = lang
    return url_for(request.endpoint, **(request.view_args or {}), **args.to_dict(flat=False))


#: Digit group and decimal separators, and what comes before "%", per language.
_NUMBERS = {"fr": ("\u202f", ",", "\u00a0"), "en": (",", ".", "")}


def _numbers() -> tuple[str, str, str]:
    return _NUMBERS.get(str(get_locale()), _NUMBERS["fr"])


# Plain formatting for the figures of the public pages, which show dozens of them:
# Babel's general formatters cost ~20 µs each, a fifth of a page's rendering.
def format_count(value: int) -> str:
    """12345 → "12 345" in French, "12,345" in English."""
    return f"{value:,}".replace(",", _numbers()[0])


def format_mark(value: float) -> str:
    """A mark to one decimal: 4.25 → "4,2" in French, "4.2" in English."""
    return f"{value:.1f}".replace(".", _numbers()[1])


def format_share(value: float) -> str:
    """A share as a whole percentage: 0.8123 → "81 %" in French, "81%" in English."""
    return f"{value * 100:.0f}{_numbers()[2]}%"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale in the app context; a request handled inside an
    # app context already pushed (a test, a CLI command) would keep the previous
    # request's. Translations themselves stay cached: this costs nothing.
    app.before_request(refresh)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["lang_url"] = lang_url
    app.jinja_env.filters.update(count=format_count, mark=format_mark, share=format_share)
