"""Languages: French by default, English when asked for (``?lang=en``) or preferred."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, session, url_for
from flask_babel import Babel, get_locale, get_translations, refresh
from jinja2 import pass_context
from jinja2.runtime import Context

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


# The public pages show dozens of figures and sentences. Flask-Babel finds the locale
# and the translations again for every one (four context look-ups, ~20 µs); Babel's
# number formatters cost as much. Both are looked up once per rendering instead (the
# context processor below) and read from the template's context.
def _per_render() -> dict[str, Any]:
    return {"_translations": get_translations(), "_numbers": _numbers()}


@pass_context
def _gettext(context: Context, message: str) -> str:
    return (context.get("_translations") or get_translations()).ugettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    translations = context.get("_translations") or get_translations()
    return translations.ungettext(singular, plural, count)


@pass_context
def _pgettext(context: Context, where: str, message: str) -> str:
    return (context.get("_translations") or get_translations()).upgettext(where, message)


@pass_context
def _npgettext(context: Context, where: str, singular: str, plural: str, count: int) -> str:
    translations = context.get("_translations") or get_translations()
    return translations.unpgettext(where, singular, plural, count)


def _separators(context: Context) -> tuple[str, str, str]:
    return context.get("_numbers") or _numbers()


@pass_context
def format_count(context: Context, value: int) -> str:
    """12345 → "12 345" in French, "12,345" in English."""
    return f"{value:,}".replace(",", _separators(context)[0])


@pass_context
def format_mark(context: Context, value: float) -> str:
    """A mark to one decimal: 4.25 → "4,2" in French, "4.2" in English."""
    return f"{value:.1f}".replace(".", _separators(context)[1])


@pass_context
def format_share(context: Context, value: float) -> str:
    """A share as a whole percentage: 0.8123 → "81 %" in French, "81%" in English."""
    return f"{value * 100:.0f}{_separators(context)[2]}%"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale in the app context; a request handled inside an
    # app context already pushed (a test, a CLI command) would keep the previous
    # request's. Translations themselves stay cached: this costs nothing.
    app.before_request(refresh)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["lang_url"] = lang_url
    app.jinja_env.filters.update(count=format_count, mark=format_mark, share=format_share)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext,
        newstyle=True)
    app.context_processor(_per_render)
