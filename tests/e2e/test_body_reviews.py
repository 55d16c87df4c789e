"""Issue 14 in a browser: the demo's training body (all its establishments), on a phone,
opens its reviews, replies to one it has not answered and reports another; the demo's
moderator publishes the reply; the body's public page then shows it. axe-core, the
Content-Security-Policy and no sideways scrolling on every page."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_backoffice import Findings, heading, printed_login, sign_in

REVIEWS = "/admin/mon-organisme/avis"
REPLY = ("Merci pour votre avis. Depuis votre session, les ateliers pratiques durent deux "
         "heures et un formateur supplémentaire accompagne le groupe.")
REPORT = "Cet avis décrit une formation que notre établissement ne propose pas."
#: The link of each review the body can reply to (it has a comment).
REPLY_LINK = re.compile(r"^Répondre à l’avis n° (\d+) ou le signaler$")


def _open_reviews(page: Any, query: str = "") -> None:
    response = page.goto(REVIEWS + query)
    assert response.status == 200, response.status
    expect(heading(page)).to_have_text("Nos avis")


def _unanswered(page: Any) -> list[int]:
    """The reviews with a comment the list shows (it was filtered: no reply, no report)."""
    links = page.get_by_role("link", name=REPLY_LINK)
    return [int(REPLY_LINK.match(links.nth(n).inner_text()).group(1))
            for n in range(links.count())]


def test_a_body_replies_and_reports_and_the_moderated_reply_goes_public(
        page: Any, new_page: Any, live_server, demo_logins, authenticator,
        database) -> None:
    body = printed_login(demo_logins, "network")
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, body, authenticator)

    _open_reviews(page)
    expect(page.get_by_text(re.compile(r"^\d+ avis"))).to_be_visible()
    findings.check("the reviews")
    # Filtered through the form: neither answered nor reported.
    page.get_by_label("Réponse", exact=True).select_option(label="Sans réponse")
    page.get_by_label("Signalement", exact=True).select_option(label="Non signalés")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    expect(page).to_have_url(re.compile(r"reponse=sans"))
    expect(page).to_have_url(re.compile(r"signalement=non"))
    findings.check("the reviews filtered")
    candidates = _unanswered(page)
    assert len(candidates) >= 2, "the demo's body has fewer than two unanswered comments"
    answered, reported = candidates[:2]

    # The reply, with the counter of characters left.
    page.get_by_role("link", name=f"Répondre à l’avis n° {answered} ou le signaler",
                     exact=True).click()
    expect(heading(page)).to_have_text(f"Avis n° {answered}")
    reply_box = page.get_by_label("Votre réponse", exact=True)
    expect(reply_box).to_have_attribute("maxlength", "1000")
    reply_box.fill(REPLY)
    expect(page.locator("#reply-counter")).to_have_text(
        f"{1000 - len(REPLY)} caractères restants sur 1000")
    findings.check("a review")
    page.get_by_role("button", name="Envoyer la réponse à la modération", exact=True).click()
    expect(page.get_by_text("Votre réponse est enregistrée")).to_be_visible()
    expect(page.get_by_text("En attente de modération", exact=True)).to_be_visible()
    findings.check("a review answered")

    # The report of another review.
    _open_reviews(page, "?reponse=sans&signalement=non")
    page.get_by_role("link", name=f"Répondre à l’avis n° {reported} ou le signaler",
                     exact=True).click()
    page.get_by_label("Motif", exact=True).select_option(
        label="Sans rapport avec cet organisme ou cette formation")
    page.get_by_label("Explication pour la modération", exact=True).fill(REPORT)
    page.get_by_role("button", name="Signaler l’avis", exact=True).click()
    expect(page.get_by_text("Votre signalement est envoyé.")).to_be_visible()
    expect(page.get_by_text("En cours d’examen", exact=True)).to_be_visible()
    findings.check("a review reported")

    # Marked as read from the list: it leaves the unread ones.
    _open_reviews(page, "?lecture=non-lus")
    page.get_by_role("button", name=f"Marquer l’avis n° {answered} comme lu",
                     exact=True).click()
    expect(page.get_by_text(f"Avis n° {answered} marqué comme lu.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Marquer l’avis n° {answered} comme lu")
           ).to_have_count(0)
    findings.check("the unread reviews")
    findings.assert_none()

    # The moderator publishes the reply.
    moderator_page = new_page()
    moderator_findings = Findings(moderator_page)
    moderator_page.goto("/login")
    sign_in(moderator_page, printed_login(demo_logins, "moderator"), authenticator)
    moderator_page.goto("/admin/moderation?onglet=reponses")
    reply = moderator_page.locator("article", has_text=REPLY)
    expect(reply).to_have_count(1)
    reply.get_by_role("button", name=re.compile(r"^Publier la réponse n° \d+$")).click()
    expect(moderator_page.get_by_text(re.compile(r"C’est fait : réponse n° \d+\."))
           ).to_be_visible()
    moderator_findings.check("the replies awaiting")
    moderator_findings.assert_none()

    # The public page of the establishment shows it under the review.
    with database.engine.connect() as connection:
        siret = connection.scalar(sa.text(
            "SELECT b.siret FROM answers a JOIN training_bodies b "
            "ON b.id = a.training_body_id WHERE a.id = :id"), {"id": answered})
    page.goto(f"/organismes/{siret}")
    for _ in range(10):
        if page.get_by_text(REPLY, exact=True).count():
            break
        page.get_by_role("link", name="Page suivante").first.click()
    expect(page.get_by_text(REPLY, exact=True)).to_be_visible()
    # The body's space says so too.
    page.goto(f"{REVIEWS}/{answered}")
    expect(page.get_by_text("Publiée sur les pages publiques", exact=True)).to_be_visible()
