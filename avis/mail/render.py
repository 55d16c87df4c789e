"""Email content: rendered once per template and language, personalised by tags.

A batch shares one ``Content`` (SendGrid sends one content with per-recipient
substitutions), so the templates never see a recipient: every per-recipient value is a
``[[tag]]``. SendGrid inserts values verbatim into both parts, hence two tags per value:
``[[x_text]]`` for the text part and the subject, ``[[x_html]]`` (already escaped) for
the HTML part. The templates may only use the tag of their own kind; the tests check it.

HTML templates are MJML: Jinja renders them first (autoescaped, names end in ``.html``),
then ``mjml2html`` turns them into email-client-proof HTML with inline styles.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import mjml
from babel.dates import format_date
from babel.support import NullTranslations, Translations
from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from jinja2 import Environment, FileSystemLoader
from markupsafe import escape

from avis.mail.backends.base import Content
from avis.mail.message import single_line

TEMPLATES = ("invitation", "reminder", "follow_up", "follow_up_reminder")

#: the per-recipient values; each has a ``_text`` and an ``_html`` tag
FIELDS = ("greeting", "course", "body", "dates", "city", "link", "unsubscribe")

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_TRANSLATIONS_DIR = Path(__file__).parent.parent / "translations"
_EXTENSION_KEY = "avis.mail.render"


@dataclass(frozen=True)
class MailValues:
    first_name: str | None
    last_name: str | None
    course_title: str
    #: training body's name
    body_name: str
    start_date: dt.date
    end_date: dt.date
    city: str
    #: absolute survey URL, e.g. https://avis.example/q/<token>
    link: str
    #: absolute, e.g. https://avis.example/unsubscribe/<token>
    unsubscribe_link: str


def tag(field: str, kind: str) -> str:
    """The placeholder of one value in one part (``kind`` is ``text`` or ``html``)."""
    return f"[[{field}_{kind}]]"


def content(template: str, locale: str = "fr") -> Content:
    """The shared content of one email template in one language; needs an app context.

    Rendered once per app, template and language: Jinja and MJML are far too slow to
    run per recipient, and nothing per-recipient is in the result anyway.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown email template {template!r}")
    cache: dict[tuple[str, str], Content] = current_app.extensions.setdefault(
        _EXTENSION_KEY, {})
    key = (template, locale)
    if key not in cache:
        cache[key] = _render(template, locale)
    return cache[key]


def substitutions(values: MailValues, locale: str = "fr") -> dict[str, str]:
    """Tag → value for one recipient. Works without an app context.

    Every value is made single-line, since text tags also go into the subject header.
    HTML values are escaped, brackets included: an escaped value can then never hold
    another tag, which a later replacement could fill with an unescaped text value.
    """
    text_values = {
        "greeting": _greeting(values, locale),
        "course": values.course_title,
        "body": values.body_name,
        "dates": _dates(values.start_date, values.end_date, locale),
        "city": values.city or "",
        "link": values.link,
        "unsubscribe": values.unsubscribe_link,
    }
    result: dict[str, str] = {}
    for field in FIELDS:
        text = single_line(text_values[field])
        result[tag(field, "text")] = text
        result[tag(field, "html")] = _escape_html(text)
    return result


class Personaliser:
    """``substitutions`` for many recipients, equal to it value for value, with what
    recipients share computed once: the values of a session (course, body, dates, city)
    and the greeting of a first name. Personalising 1,000 emails one by one cost more
    than sending them."""

    #: the tags whose values depend on the session alone
    SESSION_TAGS = tuple(tag(field, kind) for field in ("course", "body", "dates", "city")
                         for kind in ("text", "html"))

    def __init__(self, locale: str = "fr") -> None:
        self.locale = locale
        self._sessions: dict[tuple[object, ...], tuple[tuple[str, str], ...]] = {}
        self._greetings: dict[str | None, tuple[str, str]] = {}

    def substitutions(self, values: MailValues) -> dict[str, str]:
        key = (values.course_title, values.body_name, values.start_date, values.end_date,
               values.city)
        session = self._sessions.get(key)
        if session is None:
            everything = substitutions(values, self.locale)
            session = self._sessions[key] = tuple(
                (name, everything[name]) for name in self.SESSION_TAGS)
        greeting = self._greetings.get(values.first_name)
        if greeting is None:
            text = single_line(_greeting(values, self.locale))
            greeting = self._greetings[values.first_name] = (text, _escape_html(text))
        link, unsubscribe = single_line(values.link), single_line(values.unsubscribe_link)
        result = {"[[greeting_text]]": greeting[0], "[[greeting_html]]": greeting[1]}
        result.update(session)
        result["[[link_text]]"] = link
        result["[[link_html]]"] = _escape_html(link)
        result["[[unsubscribe_text]]"] = unsubscribe
        result["[[unsubscribe_html]]"] = _escape_html(unsubscribe)
        return result


def recipient_headers(values: MailValues) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mailbox providers show their own button."""
    return {
        "List-Unsubscribe": f"<{single_line(values.unsubscribe_link)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def display_name(values: MailValues) -> str | None:
    """"First Last" for the To header, CR/LF removed; ``None`` when there is no name."""
    parts = [single_line(p) for p in (values.first_name, values.last_name) if p]
    name = " ".join(p for p in parts if p)
    return name or None


def _escape_html(value: str) -> str:
    return str(escape(value)).replace("[", "&#91;").replace("]", "&#93;")


@functools.lru_cache(maxsize=8)
def _translations(locale: str) -> NullTranslations:
    # Babel's catalogue directly rather than Flask-Babel's: these values are computed
    # per recipient, possibly outside any app context.
    return Translations.load(str(_TRANSLATIONS_DIR), [locale], domain="messages")


def _greeting(values: MailValues, locale: str) -> str:
    # The first name alone reads naturally ("Bonjour Marie,"); a last name alone would
    # not, so without a first name the greeting has no name.
    translations = _translations(locale)
    first_name = single_line(values.first_name or "")
    if first_name:
        return translations.gettext("Hello %(name)s,") % {"name": first_name}
    return translations.gettext("Hello,")


@functools.lru_cache(maxsize=4096)
def _dates(start: dt.date, end: dt.date, locale: str) -> str:
    # Cached: a batch of 1,000 emails names a few sessions, and Babel's formatting
    # was a third of the time spent personalising them.
    translations = _translations(locale)
    if start == end:
        return translations.gettext("on %(date)s") % {
            "date": format_date(start, "long", locale=locale)}
    return translations.gettext("from %(start)s to %(end)s") % {
        "start": format_date(start, "long", locale=locale),
        "end": format_date(end, "long", locale=locale),
    }


def _render(template: str, locale: str) -> Content:
    environment = _environment()
    context = _context(template)
    with force_locale(locale):
        subject = _subject(template, context["followup_months"])
        text = environment.get_template(f"mail/{template}.txt").render(context)
        source = environment.get_template(f"mail/{template}.mjml.html").render(context)
    # No web fonts: MJML would otherwise link Google Fonts, a request to another host.
    html = mjml.mjml2html(source, disable_comments=True, fonts={})
    return Content(subject=single_line(subject), text=_tidy_text(text), html=html)


def _environment() -> Environment:
    """The app's Jinja environment (Flask-Babel's ``_``, autoescape by file name) reading
    the email templates, which live outside any registered blueprint."""
    key = f"{_EXTENSION_KEY}.jinja"
    if key not in current_app.extensions:
        # trim_blocks: block tags on their own line leave no blank line in the text part.
        current_app.extensions[key] = current_app.jinja_env.overlay(
            loader=FileSystemLoader(_TEMPLATE_DIR), trim_blocks=True, lstrip_blocks=True)
    environment: Environment = current_app.extensions[key]
    return environment


def _context(template: str) -> dict[str, object]:
    config = current_app.config
    tags = {f"{field}_{kind}": tag(field, kind) for field in FIELDS for kind in ("text", "html")}
    return {
        "t": tags,
        "ttl_days": config["INVITATION_TTL_DAYS"],
        "followup_months": config["FOLLOWUP_MONTHS"],
        "stars": range(1, 6),
        "template": template,
    }


def _subject(template: str, months: int) -> str:
    course = tag("course", "text")
    if template == "invitation":
        return gettext("Your opinion on your course “%(course)s”", course=course)
    if template == "reminder":
        return gettext("Reminder: your opinion on your course “%(course)s”", course=course)
    if template == "follow_up":
        return ngettext("%(num)s month after your course, where are you?",
                        "%(num)s months after your course, where are you?", months)
    return ngettext("Reminder: %(num)s month after your course, where are you?",
                    "Reminder: %(num)s months after your course, where are you?", months)


def _tidy_text(text: str) -> str:
    """Plain text as written in the template, without the blank lines and trailing
    spaces that template tags leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
