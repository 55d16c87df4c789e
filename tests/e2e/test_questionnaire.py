"""A former trainee answers the questionnaire on a phone, from the email to the thank-you page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DIMENSIONS, TEXTS

FR, EN = TEXTS["fr"], TEXTS["en"]

#: What the page says about the element that has the keyboard focus, and whether that
#: focus can be seen: an outline or a box shadow on the element, or, for the visually
#: hidden radios, on one of their labels.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = (e) => getComputedStyle(e);
  const ring = (e) => {
    const s = style(e);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
      || (s.boxShadow !== "" && s.boxShadow !== "none");
  };
  const shown = (e) => {
    const s = style(e), box = e.getBoundingClientRect();
    return s.visibility !== "hidden" && parseFloat(s.opacity) > 0
      && box.width > 2 && box.height > 2;
  };
  const labels = Array.from(el.labels || []);
  return {
    tag: el.tagName.toLowerCase(), type: el.type || null, name: el.name || null,
    value: el.value === undefined ? null : el.value, checked: !!el.checked,
    text: (el.innerText || labels.map((l) => l.innerText).join(" ")).trim().slice(0, 60),
    visible: (shown(el) && ring(el)) || labels.some((l) => shown(l) && ring(l)),
    outline: style(el).outline, boxShadow: style(el).boxShadow,
  };
}"""


def email_field(text: str, label: str) -> str:
    """A value of the email's text part, such as "Formation : Commis de cuisine"."""
    match = re.search(rf"^{label}\s*:\s*(.+)$", text, re.MULTILINE)
    assert match, f"no {label!r} in the email:\n{text}"
    return match.group(1).strip()


def tab_to(page: Any, name: str, *, presses: int = 25) -> dict[str, Any]:
    """Press Tab until the field ``name`` has the focus; every stop must show its focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["visible"], f"the keyboard focus cannot be seen on {focused}"
        if focused["name"] == name or (name == "submit" and focused["type"] == "submit"):
            return focused
    raise AssertionError(f"{presses} presses of Tab never reached {name!r}")


def press(page: Any, key: str, times: int = 1) -> dict[str, Any]:
    for _ in range(times):
        page.keyboard.press(key)
    focused = page.evaluate(FOCUSED)
    assert focused["visible"], f"the keyboard focus cannot be seen on {focused}"
    return focused


def no_horizontal_scroll(page: Any, width: int) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, "
                          "document.documentElement.clientWidth]")
    assert sizes[0] <= width, f"{page.url}: {sizes[0]}px wide on a {width}px screen"
    wide = page.evaluate(f"""() => Array.from(document.querySelectorAll("body *"))
        .filter((e) => e.getBoundingClientRect().right > {width} + 1)
        .slice(0, 5).map((e) => e.outerHTML.slice(0, 120))""")
    assert not wide, f"{page.url}: elements wider than {width}px: {wide}"


# --- The whole way, from the mailbox ----------------------------------------------

def test_trainee_answers_from_the_email_on_a_phone(new_page, page, live_server, survey_email,
                                                   database, questionnaire):
    # The development mailbox, on a desktop screen (its table is wider than a phone).
    desk = new_page(width=1280, height=800, mobile=False)
    desk.goto("/dev/mailbox")
    expect(desk.get_by_role("heading", level=1)).to_have_text(FR["mailbox"])
    row = desk.get_by_role("row").filter(has_text=survey_email.recipient)
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    expect(desk).to_have_url(f"{live_server.url}/dev/mailbox/{survey_email.name}")
    # The link of the text part is the one in the .eml, and the HTML part's button.
    text_part = desk.locator("pre").inner_text()
    assert survey_email.survey_url in text_part.split()
    button = desk.get_by_title(FR["html_part"]).content_frame.get_by_role(
        "link", name=FR["email_button"])
    expect(button).to_have_attribute("href", survey_email.survey_url)
    # The button leaves the sandboxed frame for the whole window.
    button.click()
    expect(desk).to_have_url(f"{live_server.url}/q/")
    expect(desk.get_by_role("heading", level=1)).to_have_text(FR["heading"])

    # The trainee opens the same link on a phone.
    page.goto(survey_email.survey_url)

    # The token is exchanged for the session: it is no longer in the address bar.
    expect(page).to_have_url(f"{live_server.url}/q/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["heading"])
    for label in ("Formation", "Organisme de formation", "Lieu"):
        expect(page.get_by_role("main")).to_contain_text(email_field(survey_email.text, label))
    assert database.invitation(survey_email.token)["clicked_dt"] is not None

    form = questionnaire(page)
    ratings = {"welcome": 5, "content": 4, "trainers": 5, "equipment": 3, "support": 4}
    script = "<script>alert(1)</script>"
    form.answer(ratings, recommend=True, title="Très bonne formation", comment=script,
                public=True, contact=True)
    form.submit()

    expect(page).to_have_url(f"{live_server.url}/q/merci")
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    assert page.log.dialogs == [], "typed markup ran as script"

    invitation = database.invitation(survey_email.token)
    assert invitation["status"] == "answered"
    assert invitation["has_receipt"]
    assert invitation["accepts_contact"]
    answer = database.latest_answer()
    assert {name: answer[name] for name in DIMENSIONS} == ratings
    assert answer["would_recommend"]
    assert answer["comment_title"] == "Très bonne formation"
    assert answer["comment_text"] == script, "the comment is kept as typed, as text"
    assert answer["comment_public"]

    # The same email link, opened again.
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["answered"])
    expect(form.submit_button).to_have_count(0)
    assert page.log.dialogs == []


def test_same_flow_in_english(new_page, live_server, survey_email, database, questionnaire):
    page = new_page(locale="en-GB")  # Accept-Language: en-GB
    page.goto(survey_email.survey_url)
    expect(page).to_have_url(f"{live_server.url}/q/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(EN["heading"])

    form = questionnaire(page, "en")
    ratings = {"welcome": 2, "content": 3, "trainers": 4, "equipment": 5, "support": 1}
    form.answer(ratings, recommend=False, comment="Too theoretical.")
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(EN["thanks"])
    expect(page.locator("html")).to_have_attribute("lang", "en")
    answer = database.latest_answer()
    assert {name: answer[name] for name in DIMENSIONS} == ratings
    assert not answer["would_recommend"]
    assert not answer["comment_public"]

    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(EN["answered"])


def test_english_picked_on_the_page_is_remembered(page, live_server, survey_email,
                                                  questionnaire):
    page.goto(survey_email.survey_url)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("navigation").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(EN["heading"])

    # Remembered in the session: the plain address, then the error page, stay in English.
    page.goto("/q/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    form = questionnaire(page, "en")
    form.answer({"welcome": 3}, recommend=None)
    form.submit()
    expect(page.get_by_role("alert")).to_contain_text(EN["error_summary"])
    expect(form.group("content")).to_contain_text(EN["missing_mark"])
    expect(form.rating("welcome", 3)).to_be_checked()


def test_lang_en_on_the_survey_link_is_kept(page, live_server, survey_email):
    # ``?lang=`` is remembered in the session on any page, the token exchange included.
    page.goto(survey_email.survey_url + "?lang=en")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/q/")))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(EN["heading"])


# --- Star links ---------------------------------------------------------------------

def test_star_link_preselects_the_marks_and_records_nothing(page, live_server, survey_email,
                                                            database, questionnaire):
    answers_before = database.answer_count()
    page.goto(survey_email.star_urls[4])
    expect(page).to_have_url(f"{live_server.url}/q/?note=4")
    form = questionnaire(page)
    for dimension in DIMENSIONS:
        expect(form.rating(dimension, 4)).to_be_checked()
        for mark in (1, 2, 3, 5):
            expect(form.rating(dimension, mark)).not_to_be_checked()
    expect(form.recommend(True)).not_to_be_checked()
    expect(form.recommend(False)).not_to_be_checked()
    expect(page.get_by_role("main")).to_contain_text("Vous avez choisi 4 étoiles sur 5")

    # A GET records nothing: mail scanners follow every link of an email.
    invitation = database.invitation(survey_email.token)
    assert invitation["status"] != "answered"
    assert invitation["answered_dt"] is None
    assert not invitation["has_receipt"]
    assert database.answer_count() == answers_before

    # The plain link still opens the questionnaire, with nothing pre-selected.
    page.goto(survey_email.survey_url)
    expect(form.submit_button).to_be_visible()
    expect(page.get_by_role("radio", checked=True)).to_have_count(0)

    # The star again; the trainee changes one mark and sends.
    page.goto(survey_email.star_urls[4])
    form.rating("content", 2).check()
    form.recommend(False).check()
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    assert database.answer_count() == answers_before + 1
    answer = database.latest_answer()
    assert {name: answer[name] for name in DIMENSIONS} == {
        "welcome": 4, "content": 2, "trainers": 4, "equipment": 4, "support": 4}
    assert not answer["would_recommend"]


# --- Errors -------------------------------------------------------------------------

def test_missing_mark_shows_a_french_error_and_keeps_what_was_typed(
        page, live_server, survey_email, database, questionnaire):
    page.goto(survey_email.survey_url)
    form = questionnaire(page)
    comment = "Formateurs souvent absents <b>vraiment</b> & salles froides."
    form.answer({"welcome": 5, "content": 4, "equipment": 2, "support": 3}, recommend=False,
                title="Mitigé", comment=comment, public=True)
    form.submit()

    expect(page).to_have_url(f"{live_server.url}/q/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(FR["error_summary"])
    expect(summary.get_by_role("link", name=FR["trainers"])).to_be_visible()
    trainers = form.group("trainers")
    expect(trainers).to_contain_text(FR["missing_mark"])
    expect(trainers).to_have_accessible_description(FR["missing_mark"])
    expect(trainers.get_by_role("radio").first).to_have_attribute("aria-invalid", "true")
    for dimension in ("welcome", "content", "equipment", "support"):
        expect(form.group(dimension)).not_to_contain_text(FR["missing_mark"])

    # What was typed and chosen is still there.
    expect(form.comment_title).to_have_value("Mitigé")
    expect(form.comment_text).to_have_value(comment)
    expect(form.comment_public).to_be_checked()
    expect(form.accepts_contact).not_to_be_checked()
    expect(form.rating("welcome", 5)).to_be_checked()
    expect(form.rating("equipment", 2)).to_be_checked()
    expect(form.recommend(False)).to_be_checked()
    assert not database.invitation(survey_email.token)["has_receipt"]

    form.rating("trainers", 1).check()
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    answer = database.latest_answer()
    assert answer["trainers"] == 1
    assert answer["comment_text"] == comment


# --- Keyboard only ------------------------------------------------------------------

def test_keyboard_only_with_visible_focus(page, live_server, survey_email, database):
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["heading"])

    # Into each group with Tab; Space checks the focused radio; arrows move the choice.
    tab_to(page, "welcome")
    focused = press(page, " ")
    assert (focused["value"], focused["checked"]) == ("1", True)
    assert press(page, "ArrowRight", 4)["value"] == "5"
    tab_to(page, "content")
    press(page, " ")
    assert press(page, "ArrowRight", 3)["value"] == "4"
    tab_to(page, "trainers")
    press(page, " ")
    assert press(page, "ArrowDown", 2)["value"] == "3"
    tab_to(page, "equipment")
    press(page, " ")
    assert press(page, "ArrowRight", 1)["value"] == "2"
    tab_to(page, "support")
    press(page, " ")
    press(page, "ArrowRight", 2)
    focused = press(page, "ArrowLeft")
    assert (focused["value"], focused["checked"]) == ("2", True)
    assert tab_to(page, "would_recommend")["value"] == "yes"
    assert press(page, " ")["checked"]

    tab_to(page, "comment_title")
    page.keyboard.type("Au clavier")
    tab_to(page, "comment_text")
    page.keyboard.type("Rempli sans souris.")
    tab_to(page, "comment_public")
    assert press(page, " ")["checked"]
    tab_to(page, "submit")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    answer = database.latest_answer()
    assert {name: answer[name] for name in DIMENSIONS} == {
        "welcome": 5, "content": 4, "trainers": 3, "equipment": 2, "support": 2}
    assert answer["would_recommend"]
    assert (answer["comment_title"], answer["comment_text"]) == ("Au clavier",
                                                                 "Rempli sans souris.")
    assert answer["comment_public"]
    assert not database.invitation(survey_email.token)["accepts_contact"]


# --- Small screens, other hosts, headers --------------------------------------------

def test_no_horizontal_scroll_at_320_px(new_page, survey_email, questionnaire):
    page = new_page(width=320, height=640)
    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["heading"])
    no_horizontal_scroll(page, 320)

    form = questionnaire(page)
    form.submit()
    expect(page.get_by_role("alert")).to_be_visible()
    no_horizontal_scroll(page, 320)

    form.answer(dict.fromkeys(DIMENSIONS, 3), recommend=True,
                comment="Un commentaire très long sans espaces: " + "x" * 200)
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    no_horizontal_scroll(page, 320)

    page.goto(survey_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["answered"])
    no_horizontal_scroll(page, 320)
    page.goto(survey_email.unsubscribe_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["unsubscribe"])
    no_horizontal_scroll(page, 320)


def test_no_request_leaves_the_machine(page, live_server, survey_email, questionnaire):
    page.goto("/dev/mailbox")
    page.goto(f"/dev/mailbox/{survey_email.name}")
    frame = page.get_by_title(FR["html_part"]).content_frame
    expect(frame.get_by_role("link", name=FR["email_button"])).to_be_visible()
    page.goto(survey_email.survey_url)
    form = questionnaire(page)
    form.submit()
    expect(page.get_by_role("alert")).to_be_visible()
    form.answer(dict.fromkeys(DIMENSIONS, 5), recommend=True)
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    page.goto(survey_email.survey_url)
    page.goto(survey_email.unsubscribe_url)

    assert any(url.endswith(".css") for url in page.log.requests), page.log.requests
    hosts = {url for url in page.log.requests if not url.startswith(live_server.url + "/")}
    assert not hosts, f"requests to other hosts: {sorted(hosts)}"


def test_questionnaire_pages_have_a_csp_without_unsafe_inline(page, survey_email,
                                                              questionnaire):
    policies = {}
    response = page.goto(survey_email.survey_url)
    policies["form"] = response.header_value("content-security-policy")
    form = questionnaire(page)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.submit()
    policies["form with errors"] = posted.value.header_value("content-security-policy")
    form.answer(dict.fromkeys(DIMENSIONS, 4), recommend=True)
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["thanks"])
    policies["thanks"] = page.reload().header_value("content-security-policy")
    policies["answered"] = page.goto(survey_email.survey_url).header_value(
        "content-security-policy")
    policies["unsubscribe"] = page.goto(survey_email.unsubscribe_url).header_value(
        "content-security-policy")

    missing = [name for name, policy in policies.items() if not policy]
    assert not missing, f"no Content-Security-Policy header on: {missing}"
    lax = {name: policy for name, policy in policies.items() if "unsafe-inline" in policy}
    assert not lax, f"'unsafe-inline' allowed: {lax}"
    blocked = [m for m in page.log.console_errors if "Content Security Policy" in m]
    assert not blocked, f"the pages break their own policy: {blocked}"


# --- The 6-month follow-up ----------------------------------------------------------

def test_follow_up_questionnaire_smoke(page, live_server, follow_up_email, database):
    page.goto(follow_up_email.survey_url)
    expect(page).to_have_url(f"{live_server.url}/q/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(FR["follow_up_heading"])
    page.get_by_role("group", name=FR["situation"]).get_by_role(
        "radio", name=FR["in_work"]).check()
    page.get_by_role("button", name=FR["follow_up_submit"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Merci")
    assert database.invitation(follow_up_email.token)["has_receipt"]
    page.goto(follow_up_email.survey_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(FR["answered"])
