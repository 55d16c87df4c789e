"""Languages: French by default, English when asked for (``?lang=en``) or preferred."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel, get_locale

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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
