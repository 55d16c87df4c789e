"""Email content: real Jinja + MJML rendering, personalised as every backend does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from avis.mail import render
from avis.mail.message import personalize

SURVEY_LINK = "https://avis.example/q/tok123"
UNSUBSCRIBE_LINK = "https://avis.example/unsubscribe/tok123"
HOSTILE_TITLE = "<script>alert(1)</script> & Cie"
LOCALES = ("fr", "en")
STAR_TEMPLATES = ("invitation", "reminder")
TAG = re.compile(r"\[\[(\w+)\]\]")


def make_values(**changes: Any) -> render.MailValues:
    values = render.MailValues(
        first_name="Marie", last_name="Dupont", course_title="Soudure TIG",
        body_name="AFPA Lyon", start_date=dt.date(2026, 1, 5), end_date=dt.date(2026, 6, 30),
        city="Villeurbanne", link=SURVEY_LINK, unsubscribe_link=UNSUBSCRIBE_LINK)
    return dataclasses.replace(values, **changes)


def personalized(template: str, values: render.MailValues, locale: str = "fr"):
    return personalize(render.content(template, locale), render.substitutions(values, locale))


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", render.TEMPLATES)
def test_every_tag_is_replaced(template: str, locale: str) -> None:
    email = personalized(template, make_values(), locale)

    for part in (email.subject, email.text, email.html):
        assert "[[" not in part
        assert "]]" not in part
    for part in (email.text, email.html):
        for value in ("Marie", "Soudure TIG", "AFPA Lyon", "Villeurbanne", SURVEY_LINK,
                      UNSUBSCRIBE_LINK):
            assert value in part
    if template in STAR_TEMPLATES:
        assert "Soudure TIG" in email.subject


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", render.TEMPLATES)
def test_each_part_uses_only_its_own_tags(template: str, locale: str) -> None:
    # A text tag in the HTML part would put an unescaped value into HTML.
    content = render.content(template, locale)
    known = set(render.substitutions(make_values(), locale))

    text_tags = set(TAG.findall(content.subject + content.text))
    html_tags = set(TAG.findall(content.html))

    assert text_tags
    assert html_tags
    assert all(tag.endswith("_text") for tag in text_tags)
    assert all(tag.endswith("_html") for tag in html_tags)
    assert {f"[[{tag}]]" for tag in text_tags | html_tags} <= known


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("template", render.TEMPLATES)
def test_untrusted_values_are_escaped_in_html_and_verbatim_in_text(template: str) -> None:
    values = make_values(course_title=HOSTILE_TITLE, first_name="<b>Bo</b>",
                         last_name='"><img src=x>')

    email = personalized(template, values)

    assert "<script>" not in email.html
    assert "<b>Bo" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in email.html
    assert "&lt;b&gt;Bo&lt;/b&gt;" in email.html
    assert HOSTILE_TITLE in email.text
    assert "<b>Bo</b>" in email.text


@pytest.mark.usefixtures("app_context")
def test_a_value_holding_a_tag_cannot_smuggle_another_value_into_html() -> None:
    # The body's HTML value is replaced before the city's text tag: if it could still
    # read as a tag, the raw city would land in the HTML part.
    values = make_values(body_name="[[city_text]]", city="<img src=x onerror=alert(1)>")

    email = personalized("invitation", values)

    assert "<img" not in email.html
    assert "&#91;&#91;city_text&#93;&#93;" in email.html


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("template", render.TEMPLATES)
def test_subject_has_no_line_break_even_when_values_do(template: str) -> None:
    values = make_values(course_title="Soudure\r\nBcc: victim@example.org\nTIG",
                         first_name="Ma\rrie", body_name="A\u2028B")

    substitutions = render.substitutions(values)
    subject = personalized(template, values).subject

    assert not re.search(r"[\r\n\u2028]", subject)
    assert not any(re.search(r"[\r\n\u2028]", value) for value in substitutions.values())


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", STAR_TEMPLATES)
def test_five_star_links_preselect_notes_one_to_five(template: str, locale: str) -> None:
    email = personalized(template, make_values(), locale)

    html_notes = re.findall(rf'href="{re.escape(SURVEY_LINK)}\?note=(\d)"', email.html)
    text_notes = re.findall(rf"{re.escape(SURVEY_LINK)}\?note=(\d)", email.text)

    assert html_notes == ["1", "2", "3", "4", "5"]
    assert text_notes == ["1", "2", "3", "4", "5"]


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("template", ["follow_up", "follow_up_reminder"])
def test_follow_up_asks_about_the_situation_without_stars(template: str) -> None:
    email = personalized(template, make_values())

    assert "?note=" not in email.html
    assert "6 mois après votre formation, où en êtes-vous\u00a0?" in email.subject
    assert "Répondre au questionnaire" in email.html


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("template", render.TEMPLATES)
def test_mjml_gives_a_self_contained_html_document_with_inline_styles(template: str) -> None:
    html = render.content(template).html

    assert html.lower().startswith("<!doctype html>")
    assert '<html lang="fr"' in html
    assert "<mj-" not in html
    assert re.search(r'<div style="[^"]*font-family:Arial', html)
    assert re.search(r'<a href="\[\[link_html\]\]"[^>]* style="[^"]*background:#000091', html)
    # Nothing fetched from another host: no images, no stylesheet, no web font.
    for forbidden in ("<img", "<link", "@import", "googleapis", "src="):
        assert forbidden not in html


@pytest.mark.usefixtures("app_context")
def test_french_by_default_english_on_request() -> None:
    french = personalized("invitation", make_values())
    english = personalized("invitation", make_values(), "en")

    assert french.subject == "Votre avis sur votre formation «\u00a0Soudure TIG\u00a0»"
    assert "Bonjour Marie," in french.text
    assert "du 5 janvier 2026 au 30 juin 2026" in french.text
    assert "Donner mon avis" in french.html
    assert "Se désinscrire" in french.html
    assert '<html lang="fr"' in french.html
    assert english.subject == "Your opinion on your course “Soudure TIG”"
    assert "Hello Marie," in english.text
    assert "from January 5, 2026 to June 30, 2026" in english.text
    assert "Give my opinion" in english.html
    assert '<html lang="en"' in english.html


@pytest.mark.usefixtures("app_context")
def test_reminders_say_they_are_reminders() -> None:
    assert render.content("reminder").subject.startswith("Rappel\u00a0:")
    assert "Petit rappel" in render.content("reminder").text
    assert render.content("follow_up_reminder").subject.startswith("Rappel\u00a0:")
    assert not render.content("invitation").subject.startswith("Rappel")


@pytest.mark.usefixtures("app_context")
def test_content_is_rendered_once_per_template_and_locale() -> None:
    assert render.content("invitation") is render.content("invitation", "fr")
    assert render.content("invitation", "en") is not render.content("invitation", "fr")
    assert render.content("reminder") is not render.content("invitation")
    with pytest.raises(ValueError, match="unknown email template"):
        render.content("newsletter")


def test_substitutions_work_outside_an_app_context() -> None:
    substitutions = render.substitutions(make_values(course_title=HOSTILE_TITLE))

    assert substitutions["[[greeting_text]]"] == "Bonjour Marie,"
    assert substitutions["[[dates_text]]"] == "du 5 janvier 2026 au 30 juin 2026"
    assert substitutions["[[course_text]]"] == HOSTILE_TITLE
    assert substitutions["[[course_html]]"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie"
    assert substitutions["[[link_html]]"] == SURVEY_LINK


def test_greeting_without_first_name_and_one_day_course() -> None:
    values = make_values(first_name=None, end_date=dt.date(2026, 1, 5))

    french = render.substitutions(values)
    english = render.substitutions(values, "en")

    assert french["[[greeting_text]]"] == "Bonjour,"
    assert french["[[dates_text]]"] == "le 5 janvier 2026"
    assert english["[[greeting_text]]"] == "Hello,"
    assert english["[[dates_text]]"] == "on January 5, 2026"


def test_display_name_and_headers() -> None:
    assert render.display_name(make_values()) == "Marie Dupont"
    assert render.display_name(make_values(first_name="Ma\r\nrie", last_name=None)) == "Ma rie"
    assert render.display_name(make_values(first_name=None, last_name="")) is None
    assert render.recipient_headers(make_values()) == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE_LINK}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_personaliser_gives_what_substitutions_gives(locale: str) -> None:
    """The shared values it keeps never leak from one recipient to the next."""
    personaliser = render.Personaliser(locale)
    cases = [
        make_values(),
        make_values(link=SURVEY_LINK + "x", unsubscribe_link=UNSUBSCRIBE_LINK + "x"),
        make_values(first_name=None),
        make_values(first_name="Zoé\nLine", course_title=HOSTILE_TITLE),
        make_values(course_title="[[link_text]] Soudure", city="Lyon [[x]]"),
        make_values(start_date=dt.date(2026, 6, 30)),
        make_values(first_name="Marie", link="https://avis.example/q/<b>&[", body_name="B"),
        make_values(),
    ]
    for values in cases:
        expected = render.substitutions(values, locale)
        got = personaliser.substitutions(values)
        assert got == expected
        assert list(got) == list(expected)
