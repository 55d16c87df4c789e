"""Issue 12: the demo moderator moderates five comments with the keyboard alone, then
axe-core on the queue.

Signing in, reaching the queue through the menu, choosing a tone or a reason and pressing
"Publier"/"Rejeter": only ``page.keyboard`` (no click, fill or select_option), the focus
visible at every stop. After each decision the queue comes back focused on its list
(the message first, the next comment's controls at the next Tab). Then the database says
that exactly those five comments changed (four published with their tone, one rejected
with its reason, all by the moderator), API v1 shows the published ones with their
``commentaire`` and not the rejected one, and each body's public page counts them.

The live server is shared with the other browser tests: the comments decided on are
chosen by their ids among those the queue shows and the database says are waiting, and
the queue is never emptied (test_backoffice.py opens the first comment of the queue).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DIMENSIONS,
    TEXTS,
    Authenticator,
    Database,
    DemoLogin,
    Questionnaire,
    SurveyEmail,
)
from tests.e2e.test_backoffice import FOCUSED, ROLES, Findings, heading, menu, printed_login
from tests.e2e.test_backoffice import TEXTS as BACK_OFFICE_TEXTS

FR = {
    **BACK_OFFICE_TEXTS["fr"],
    "skip": "Aller au contenu",
    "queue": "File de modération",
    "awaiting": "Commentaires en attente",
    "tone": "Tonalité",
    "reason": "Motif",
    "publish": "Publier le n° {}",
    "reject": "Rejeter le n° {}",
    "done": "C’est fait : commentaire n° {}.",
    "comments": "Commentaires",
}
#: The tones and reasons, as the selects list them (value → label).
TONES = {"positive": "Positif", "neutral": "Neutre", "negative": "Négatif"}
REASONS = {"insult": "Injure ou propos abusif", "personal_data": "Données personnelles",
           "off_topic": "Sans rapport avec cette formation", "serious_alert": "Alerte grave"}


@dataclass(frozen=True)
class Decision:
    """What to do with one comment: publish with a tone or reject with a reason, chosen
    with ``keys`` (key names pressed; ``type:…`` typed, the select's type-ahead)."""

    publish: bool
    keys: tuple[str, ...]
    value: str

    @property
    def control(self) -> str:
        return "q" if self.publish else "r"


#: The five decisions, in order: every way of choosing in a closed select.
DECISIONS = (
    Decision(True, ("type:Neu",), "neutral"),
    Decision(True, ("ArrowDown", "ArrowDown"), "negative"),
    Decision(False, ("type:Sans",), "off_topic"),
    Decision(True, ("End",), "negative"),
    Decision(True, ("type:Neu", "Home"), "positive"),
)
#: Tab presses allowed to reach a control: the header, the filters and 20 comments of
#: 5 stops each, with room to spare.
MAX_PRESSES = 160
#: The element with the focus: what FOCUSED says, its id, its accessible label and the
#: comment it belongs to.
WHERE = """() => {
  const el = document.activeElement;
  const article = el.closest("article[aria-labelledby]");
  return {
    id: el.id || null,
    label: el.labels && el.labels.length
      ? el.labels[0].textContent.replace(/\\s+/g, " ").trim() : null,
    value: el.tagName === "SELECT" ? el.value : null,
    article: article ? article.getAttribute("aria-labelledby") : null,
    in_main: Boolean(el.closest("main")),
    // A date field's calendar button: the focus is in the field's shadow tree, and the
    // field itself neither matches :focus nor shows the site's outline.
    picker: el.type === "date" && !el.matches(":focus"),
    is_body: el === document.body,
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    return {**page.evaluate(FOCUSED), **page.evaluate(WHERE)}


def tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], what: str,
           presses: int = MAX_PRESSES) -> tuple[dict[str, Any], int]:
    """Press Tab until ``wanted``; every stop must show its focus. The element and the
    number of presses."""
    for count in range(1, presses + 1):
        page.keyboard.press("Tab")
        found = focused(page)
        # Chromium draws its own ring on a date field's calendar button.
        assert found["visible"] or found["picker"], \
            f"the keyboard focus cannot be seen on {found}"
        if wanted(found):
            return found, count
    raise AssertionError(f"{presses} presses of Tab never reached {what}")


def press(page: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key.startswith("type:"):
            page.keyboard.type(key[5:])
        else:
            page.keyboard.press(key)


# --- Signing in, with the keyboard -----------------------------------------------------

def sign_in_by_keyboard(page: Any, login: DemoLogin, authenticator: Authenticator,
                        base_url: str) -> None:
    page.goto("/login")
    expect(heading(page)).to_have_text(FR["sign_in"])
    tab_to(page, lambda f: f["name"] == "email", "the email field")
    page.keyboard.type(login.email)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password", \
        f"Tab from the email field went to {focused(page)}, not to the password"
    page.keyboard.type(login.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(admin/|login/code|login/double-authentification)$"))
    # Only roles that need a second factor go this way (the demo asks it of the admin):
    # its setup (the key read from the page, then the recovery codes), or a code.
    if page.url.endswith("/login/double-authentification"):
        authenticator.enrol(login.email, page.locator("code.secret").inner_text())
    if not page.url.endswith("/admin/"):
        assert authenticator.knows(login.email), f"no second factor known for {login.email}"
        tab_to(page, lambda f: f["name"] == "code", "the code field")
        page.keyboard.type(authenticator.code(login.email))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if heading(page).inner_text() == FR["recovery_codes"]:
            authenticator.recovery_codes[login.email] = \
                page.get_by_role("main").locator("ul.codes li").all_inner_texts()
            tab_to(page, lambda f: f["tag"] == "a" and f["text"] == FR["kept_them"],
                   "the link under the recovery codes")
            page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base_url}/admin/")
    expect(page.locator(".whoami")).to_contain_text(FR["signed_in_as"].format(login.email))


# --- The database ------------------------------------------------------------------------

def comment_states(database: Database) -> dict[int, tuple[Any, ...]]:
    """Every comment meant for publication: (status, tone, reason, moderator)."""
    with database.engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT id, comment_status, qualification, rejection_reason, moderated_by_id "
            "FROM answers WHERE comment_status IS NOT NULL")).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def publishable(database: Database, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Those of ``ids`` still waiting that the public pages would show once published
    (consent, a text, not excluded, a session large enough), with their body and text."""
    with database.engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT a.id, a.comment_text, b.siret FROM answers a "
            "JOIN training_bodies b ON b.id = a.training_body_id "
            "WHERE a.id IN :ids AND a.comment_status = 'pending' "
            "AND a.comment_public AND a.comment_text IS NOT NULL "
            "AND a.excluded_reason IS NULL AND EXISTS (SELECT 1 FROM scores s "
            "WHERE s.scope = 'session' AND s.key = CAST(a.session_id AS VARCHAR(20)) "
            "AND s.is_public)").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids}).mappings().all()
    return {row["id"]: dict(row) for row in rows}


def waiting_in_scope(database: Database, email: str) -> int:
    """The comments waiting in the account's scope (its région, or all for a national
    one), as the queue counts them."""
    with database.engine.connect() as connection:
        return connection.scalar(sa.text(
            "SELECT count(*) FROM answers a JOIN sessions s ON s.id = a.session_id "
            "JOIN accounts m ON m.email = :email WHERE a.comment_status = 'pending' "
            "AND (m.region_code IS NULL OR s.region_code = m.region_code)"), {"email": email})


def account_id(database: Database, email: str) -> int:
    with database.engine.connect() as connection:
        return connection.scalar(sa.text("SELECT id FROM accounts WHERE email = :email"),
                                 {"email": email})


# --- Trainees' comments --------------------------------------------------------------

def answer_with_a_public_comment(page: Any, invitation: SurveyEmail, number: int) -> None:
    """A trainee answers an invitation and agrees to the comment's publication: it then
    waits for moderation."""
    page.goto(invitation.survey_url)
    form = Questionnaire(page)
    form.answer(dict.fromkeys(DIMENSIONS, 4), recommend=True, title=f"Au clavier {number}",
                comment=f"Formation claire, formateurs disponibles (commentaire {number} "
                        "pour la modération au clavier).", public=True)
    form.submit()
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXTS["fr"]["thanks"])


# --- The public side -----------------------------------------------------------------

def public_comment_count(page: Any, siret: str) -> int:
    """The count of published comments on the body's page (``lang`` skips the cache)."""
    response = page.request.get(f"/organismes/{siret}?lang=fr")
    assert response.status == 200, f"/organismes/{siret}: {response.status}"
    found = re.search(r'<h2 id="comments-title">' + FR["comments"] + r" \(([\d  ]+)\)",
                      response.text())
    assert found, f"/organismes/{siret} has no comment heading"
    return int(re.sub(r"\D", "", found.group(1)))


def pending_count(page: Any) -> int:
    tab = page.get_by_role("navigation", name="Onglets").get_by_role(
        "link", name=re.compile("^" + FR["awaiting"]))
    found = re.search(r"\(([\d  ]+)\)$", tab.inner_text().strip())
    assert found, f"no count on the tab {tab.inner_text()!r}"
    return int(re.sub(r"\D", "", found.group(1)))


# --- The test --------------------------------------------------------------------------

def test_moderate_five_comments_with_the_keyboard_only(new_page, live_server, demo_logins,
                                                       authenticator, database,
                                                       unused_emails):
    started = time.monotonic()
    login = printed_login(demo_logins, "moderator")
    # Five to decide on and one left for the other tests: the demo alone leaves only a
    # few comments waiting (most are published), so trainees answer unused invitations
    # with public comments until there are enough.
    needed = len(DECISIONS) + 1
    demo_waiting = waiting_in_scope(database, login.email)
    for number in range(1, needed - demo_waiting + 1):
        invitations = unused_emails["end_of_training"]
        assert invitations, "no unused invitation left in the demo mailbox: raise DEMO_TRAINEES"
        answer_with_a_public_comment(new_page(), invitations.pop(0), number)
    page = new_page(width=1280, height=800, mobile=False)
    findings = Findings(page)
    queue_url = f"{live_server.url}/admin/moderation"

    sign_in_by_keyboard(page, login, authenticator, live_server.url)
    expect(heading(page)).to_have_text(ROLES["moderator"].heading["fr"])

    # The menu's entry, then Enter.
    link, _ = tab_to(page, lambda f: f["tag"] == "a" and f["text"] == FR["moderation"],
                     "the menu entry Modération", presses=25)
    assert link["href"] == "/admin/moderation", link
    with page.expect_navigation(url=queue_url):
        page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(FR["queue"])
    expect(menu(page).filter(has_text=FR["moderation"])).to_have_attribute(
        "aria-current", "page")

    # The comments to decide on: waiting ones the queue shows, in its order.
    waiting = pending_count(page)
    assert waiting >= needed, (
        f"the demo moderator's queue holds {waiting} comments ({demo_waiting} before "
        f"trainees answered): {needed} are needed, {len(DECISIONS)} to decide on and one "
        "left for the other browser tests (the invitations answered may be outside the "
        "moderator's région)")
    shown = [int(name.removeprefix("c-")) for name in page.locator(
        "article.comment[aria-labelledby]").evaluate_all(
        "(all) => all.map((a) => a.getAttribute('aria-labelledby'))")]
    candidates = publishable(database, shown)
    chosen = [answer_id for answer_id in shown if answer_id in candidates][:len(DECISIONS)]
    assert len(chosen) == len(DECISIONS), (
        f"of the {len(shown)} comments on the queue's first page, only {len(chosen)} are "
        f"waiting and would be shown once published: {len(DECISIONS)} are needed")
    before = comment_states(database)
    moderator = account_id(database, login.email)
    counts_before = {siret: public_comment_count(page, siret)
                     for siret in {candidates[i]["siret"] for i in chosen}}

    presses: list[int] = []
    focus_after: list[dict[str, Any]] = []
    first_stops: list[str] = []
    for answer_id, decision in zip(chosen, DECISIONS, strict=True):
        control = f"{decision.control}-{answer_id}"
        # The page starts at its top (the skip link first, then the content), or in it.
        start = focused(page)
        assert start["is_body"] or start["in_main"], f"the page opened with focus on {start}"
        count, first = 0, None
        if start["is_body"]:
            skip, _ = tab_to(page, lambda f: True, "anything", presses=1)
            assert (skip["tag"], skip["text"], skip["href"]) == ("a", FR["skip"], "#main"), \
                f"the first Tab stop is {skip}, not the skip link"
            page.keyboard.press("Enter")
            first, _ = tab_to(page, lambda f: True, "anything", presses=1)
            assert first["in_main"], f"Tab after the skip link went to {first}, not into main"
            first_stops.append(first["text"])
            count = 2
        if first is not None and first["id"] == control:
            select, more = first, 0
        else:
            select, more = tab_to(page, lambda f, c=control: f["id"] == c,
                                  f"the {'tone' if decision.publish else 'reason'} of no. "
                                  f"{answer_id}")
        presses.append(count + more)
        assert (select["tag"], select["article"], select["label"]) == (
            "select", f"c-{answer_id}",
            f"{FR['tone' if decision.publish else 'reason']} du n° {answer_id}"), select
        default = next(iter(TONES if decision.publish else REASONS))
        assert select["value"] == default, select
        press(page, decision.keys)
        chosen_value = focused(page)["value"]
        assert chosen_value == decision.value, \
            f"{decision.keys} chose {chosen_value!r} in {control}, not {decision.value!r}"
        page.keyboard.press("Tab")
        button = focused(page)
        name = FR["publish" if decision.publish else "reject"].format(answer_id)
        assert (button["tag"], button["type"], button["text"]) == ("button", "submit", name), \
            f"Tab after {control} went to {button}, not to {name!r}"
        assert button["visible"], button
        with page.expect_navigation(url=f"{queue_url}#file"):
            page.keyboard.press("Enter")
        expect(page.locator(".flash[role=status]")).to_have_text(FR["done"].format(answer_id))
        expect(page.locator(f"#{control}")).to_have_count(0)
        # Back at the list, not at the top of the page: its message, then the next
        # comment's controls at the next Tab.
        focus_after.append(focused(page))
        assert (focus_after[-1]["id"], focus_after[-1]["in_main"]) == ("file", True), \
            f"after deciding on no. {answer_id} the focus is on {focus_after[-1]}"

    # The queue after the five decisions, its message shown: axe-core and the rest.
    expect(heading(page)).to_have_text(FR["queue"])
    assert pending_count(page) == waiting - len(DECISIONS)
    findings.check("the moderation queue after five decisions")
    findings.assert_none()

    # Exactly those five comments changed, as decided, by the moderator.
    after = comment_states(database)
    changed = {answer_id: after.get(answer_id) for answer_id in before.keys() | after.keys()
               if before.get(answer_id) != after.get(answer_id)}
    expected = {answer_id: ("published", d.value, None, moderator) if d.publish
                else ("rejected", None, d.value, moderator)
                for answer_id, d in zip(chosen, DECISIONS, strict=True)}
    assert changed == expected
    assert all(before[answer_id] == ("pending", None, None, None) for answer_id in chosen), \
        {answer_id: before[answer_id] for answer_id in chosen}

    # The public side: API v1 gives the published comments, not the rejected one, and
    # each body's page counts the new ones.
    for answer_id, decision in zip(chosen, DECISIONS, strict=True):
        response = page.request.get(f"/api/v1/avis/{answer_id}")
        assert response.status == 200, f"/api/v1/avis/{answer_id}: {response.status}"
        review = response.json()
        if decision.publish:
            assert review.get("commentaire", {}).get("texte") == \
                candidates[answer_id]["comment_text"], review
        else:
            assert "commentaire" not in review, review
    published_by_body: dict[str, int] = {}
    for answer_id, decision in zip(chosen, DECISIONS, strict=True):
        if decision.publish:
            siret = candidates[answer_id]["siret"]
            published_by_body[siret] = published_by_body.get(siret, 0) + 1
    counts_after = {siret: public_comment_count(page, siret) for siret in counts_before}
    assert counts_after == {siret: counts_before[siret] + published_by_body.get(siret, 0)
                            for siret in counts_before}, (counts_before, counts_after)

    print(f"\nTab presses from the top of the queue to each comment's select: {presses}; "
          f"focus after each decision: {[f['tag'] for f in focus_after]}; "
          f"first stop after the skip link: {first_stops}; "
          f"{time.monotonic() - started:.1f} s")
