"""axe-core on every page a trainee sees: no serious or critical violation, on a phone.

axe-core is the copy shipped in the ``axe-playwright-python`` package; it is evaluated
through the DevTools protocol, which the pages' Content-Security-Policy does not block
(a ``<script>`` tag would be).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DIMENSIONS, TEXTS

FR, EN = TEXTS["fr"], TEXTS["en"]
FAILING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    page.evaluate(axe_source())
    version = page.evaluate("() => axe.version")
    assert version, "axe-core did not load"
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"— {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, what: str) -> None:
    found = violations(page)
    assert not found, f"{what} ({page.url}): axe-core violations\n{describe(found)}"


def test_questionnaire_form(page, survey_email):
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("button", name=FR["submit"])).to_be_visible()
    assert_accessible(page, "the questionnaire")


def test_questionnaire_form_from_a_star_link(page, survey_email):
    page.goto(survey_email.star_urls[3])
    expect(page.get_by_role("radio", checked=True)).to_have_count(len(DIMENSIONS))
    assert_accessible(page, "the questionnaire with pre-selected marks")


def test_questionnaire_form_in_english(new_page, survey_email):
    page = new_page(locale="en-GB")
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("button", name=EN["submit"])).to_be_visible()
    assert_accessible(page, "the questionnaire in English")


def test_questionnaire_form_with_errors(page, survey_email, questionnaire):
    page.goto(survey_email.survey_url)
    form = questionnaire(page)
    form.answer({"welcome": 4, "support": 2}, recommend=None, comment="Bien.")
    form.submit()
    expect(page.get_by_role("alert")).to_contain_text(FR["error_summary"])
    assert_accessible(page, "the questionnaire with errors")


def test_thank_you_and_already_answered_pages(page, survey_email, questionnaire):
    page.goto(survey_email.survey_url)
    form = questionnaire(page)
    form.answer(dict.fromkeys(DIMENSIONS, 4), recommend=True)
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    found = {"the thank-you page": violations(page)}
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["answered"])
    found["the already-answered page"] = violations(page)
    failed = {what: v for what, v in found.items() if v}
    assert not failed, "\n".join(f"{what}: axe-core violations\n{describe(v)}"
                                 for what, v in failed.items())


def test_unsubscribe_page(page, survey_email):
    page.goto(survey_email.unsubscribe_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["unsubscribe"])
    expect(page.get_by_role("button", name=FR["unsubscribe"])).to_be_visible()
    assert_accessible(page, "the unsubscribe page")


def test_follow_up_form_and_its_errors(page, follow_up_email):
    page.goto(follow_up_email.survey_url)
    submit = page.get_by_role("button", name=FR["follow_up_submit"])
    expect(submit).to_be_visible()
    found = {"the follow-up questionnaire": violations(page)}
    submit.click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["the follow-up questionnaire with errors"] = violations(page)
    failed = {what: v for what, v in found.items() if v}
    assert not failed, "\n".join(f"{what}: axe-core violations\n{describe(v)}"
                                 for what, v in failed.items())


def test_unknown_link_page(page, live_server):
    response = page.goto("/q/this-token-does-not-exist-anywhere")
    assert response.status == 404
    assert_accessible(page, "the unknown-link page")
