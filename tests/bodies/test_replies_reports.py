"""A body replies to its reviews and reports them from its space; moderators decide; the
public pages and API v1 show the outcome."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import AccountMail, AccountMessage
from avis.audit.models import AuditEvent
from avis.db import db
from avis.moderation.models import Report, ReportStatus
from avis.surveys.models.answers import CommentStatus, Reply
from tests.accounts.fixtures import Browser, csrf_token
from tests.bodies import test_reviews
from tests.bodies.test_reviews import LIST, Network, html, signed

#: The list's fixture: a network of two establishments, their reviews and accounts.
network = test_reviews.network

REPLY = "Merci pour votre retour : les ateliers durent désormais deux heures."
EDITED = "Merci : depuis mars, chaque atelier dure deux heures et demie."


def post(client: Browser, path: str, **data: str) -> tuple[int, str]:
    """POST with the page's token; the status and the page shown (or the redirect)."""
    token = csrf_token(html(client))
    response = client.client.post(path, data={**data, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


def plain(page: str) -> str:
    """The page's text, without its tags."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def reply_of(app: Flask, answer_id: int) -> Reply | None:
    with app.app_context():
        return db.session.scalar(sa.select(Reply).where(Reply.answer_id == answer_id))


def public(app: Flask, siret: str, answer_id: int) -> tuple[str, dict]:
    client = app.test_client()
    page = client.get(f"/organismes/{siret}")
    review = client.get(f"/api/v1/avis/{answer_id}")
    assert page.status_code == 200
    assert review.status_code == 200
    return page.get_data(as_text=True), review.get_json()


def test_a_reply_of_1000_characters_is_taken_1001_refused(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    client = signed(browser, network.accounts["north"])
    answer_id = network.answers["best"]
    status, page = post(client, f"{LIST}/{answer_id}/reponse", text="a" * 1001)
    assert status == 422
    assert "Une réponse est limitée à 1 000 caractères." in page
    assert reply_of(app, answer_id) is None
    # Line breaks count as one character, as the browser counts them.
    text = ("b" * 499 + "\r\n") * 2
    status, _page = post(client, f"{LIST}/{answer_id}/reponse", text=text)
    assert status == 303
    found = reply_of(app, answer_id)
    assert found is not None
    assert len(found.text) == 999
    assert found.status == CommentStatus.pending
    detail = html(client, f"{LIST}/{answer_id}")
    assert 'maxlength="1000"' in detail
    assert "En attente de modération" in detail


def test_an_empty_reply_and_a_reply_to_marks_only_are_refused(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    client = signed(browser, network.accounts["north"])
    status, page = post(client, f"{LIST}/{network.answers['best']}/reponse", text="   ")
    assert status == 422
    assert "Écrivez votre réponse." in page
    status, page = post(client, f"{LIST}/{network.answers['marks']}/reponse", text=REPLY)
    assert status == 422
    assert "Une réponse répond à un commentaire : cet avis n’en a pas." in page
    assert reply_of(app, network.answers["marks"]) is None


def test_a_reply_flows_through_moderation_to_the_public_page_and_api(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    body = signed(browser, network.accounts["north"])
    moderator = signed(browser, network.accounts["moderator"])
    answer_id = network.answers["best"]
    siret = network.accounts["north"].siret
    assert post(body, f"{LIST}/{answer_id}/reponse", text=REPLY)[0] == 303
    page, review = public(app, siret, answer_id)
    assert REPLY not in page
    assert "reponse" not in review
    queue = html(moderator, "/admin/moderation?onglet=reponses")
    assert REPLY in queue
    reply_id = reply_of(app, answer_id).id
    token = csrf_token(queue)
    assert moderator.client.post(f"/admin/moderation/reponses/{reply_id}/publier",
                                 data={"csrf_token": token}).status_code == 303
    page, review = public(app, siret, answer_id)
    assert REPLY in page
    assert review["reponse"] == {"texte": REPLY}
    assert "Publiée sur les pages publiques" in html(body, f"{LIST}/{answer_id}")

    # Edited after publication: it waits again, and the public reads no reply meanwhile.
    assert post(body, f"{LIST}/{answer_id}/reponse", text=EDITED)[0] == 303
    assert reply_of(app, answer_id).status == CommentStatus.pending
    page, review = public(app, siret, answer_id)
    assert REPLY not in page
    assert EDITED not in page
    assert "reponse" not in review
    assert EDITED in html(moderator, "/admin/moderation?onglet=reponses")

    # A rejection is shown to the body, with its reason.
    token = csrf_token(html(moderator, "/admin/moderation?onglet=reponses"))
    assert moderator.client.post(f"/admin/moderation/reponses/{reply_id}/rejeter",
                                 data={"csrf_token": token, "reason": "off_topic"}
                                 ).status_code == 303
    detail = plain(html(body, f"{LIST}/{answer_id}"))
    assert "Rejetée par la modération (Sans rapport avec cette formation)" in detail


def test_a_published_reply_withdrawn_leaves_every_page(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    body = signed(browser, network.accounts["north"])
    moderator = signed(browser, network.accounts["moderator"])
    answer_id = network.answers["best"]
    siret = network.accounts["north"].siret
    assert post(body, f"{LIST}/{answer_id}/reponse", text=REPLY)[0] == 303
    reply_id = reply_of(app, answer_id).id
    token = csrf_token(html(moderator, "/admin/moderation?onglet=reponses"))
    moderator.client.post(f"/admin/moderation/reponses/{reply_id}/publier",
                          data={"csrf_token": token})
    assert REPLY in public(app, siret, answer_id)[0]
    assert post(body, f"{LIST}/{answer_id}/reponse/retirer")[0] == 303
    assert reply_of(app, answer_id) is None
    page, review = public(app, siret, answer_id)
    assert REPLY not in page
    assert "reponse" not in review
    assert REPLY not in html(moderator, "/admin/moderation?onglet=reponses")
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "reply.take_back"))
        assert event is not None
        assert event.changes == {"status": "published"}
        assert event.actor_id == network.accounts["north"].id
    # Nothing left to withdraw: said, not failed.
    status, _page = post(body, f"{LIST}/{answer_id}/reponse/retirer")
    assert status == 303
    # A new reply may be written, and waits.
    assert post(body, f"{LIST}/{answer_id}/reponse", text=EDITED)[0] == 303
    assert reply_of(app, answer_id).status == CommentStatus.pending


def test_a_review_is_reported_once_stays_online_and_the_body_reads_the_outcome(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    body = signed(browser, network.accounts["north"])
    colleague = signed(browser, network.accounts["north_colleague"])
    moderator = signed(browser, network.accounts["moderator"])
    answer_id = network.answers["worst"]
    siret = network.accounts["north"].siret
    path = f"{LIST}/{answer_id}/signalement"
    status, page = post(body, path, reason="", details="Faux")
    assert status == 422
    assert "Choisissez un motif." in page
    status, page = post(body, path, reason="false_facts", details="a" * 1001)
    assert status == 422
    assert "Un signalement est limité à 1 000 caractères." in page
    assert post(body, path, reason="false_facts",
                details="Les ateliers durent deux heures depuis janvier.")[0] == 303
    # Once per review and body: a colleague cannot report it again.
    status, _page = post(colleague, path, reason="other", details="Encore")
    assert status == 303
    assert "Vous avez déjà signalé cet avis." in html(colleague, f"{LIST}/{answer_id}")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    assert network.texts["worst"] in public(app, siret, answer_id)[0]
    detail = html(colleague, f"{LIST}/{answer_id}")
    assert "En cours d’examen" in detail
    assert "Faits inexacts" in detail
    assert "Les ateliers durent deux heures depuis janvier." in detail

    queue = html(moderator, "/admin/moderation?onglet=signalements")
    assert "Les ateliers durent deux heures depuis janvier." in queue
    with app.app_context():
        report_id = db.session.scalar(sa.select(Report.id).where(
            Report.answer_id == answer_id))
    message = "La modération a relu l’avis : il décrit une expérience vécue."
    assert moderator.client.post(
        f"/admin/moderation/signalements/{report_id}/garder",
        data={"csrf_token": csrf_token(queue), "message": message}).status_code == 303
    detail = html(body, f"{LIST}/{answer_id}")
    assert "Examiné : l’avis reste" in detail
    assert message in detail
    assert network.texts["worst"] in public(app, siret, answer_id)[0]
    with app.app_context():
        assert db.session.scalar(sa.select(Report.status).where(
            Report.id == report_id)) == ReportStatus.kept
        assert db.session.scalar(sa.select(AccountMessage.account_id).where(
            AccountMessage.kind == AccountMail.report_decided,
            AccountMessage.report_id == report_id)) == network.accounts["north"].id


def test_a_review_whose_comment_a_report_removed_shows_the_outcome_not_the_text(
        app: Flask, network: Network, browser: Callable[[], Browser]) -> None:
    body = signed(browser, network.accounts["north"])
    moderator = signed(browser, network.accounts["moderator"])
    answer_id = network.answers["worst"]
    assert post(body, f"{LIST}/{answer_id}/signalement", reason="abuse",
                details="Un formateur y est nommé.")[0] == 303
    queue = html(moderator, "/admin/moderation?onglet=signalements")
    with app.app_context():
        report_id = db.session.scalar(sa.select(Report.id).where(
            Report.answer_id == answer_id))
    assert moderator.client.post(
        f"/admin/moderation/signalements/{report_id}/retirer",
        data={"csrf_token": csrf_token(queue), "message": "Commentaire retiré.",
              "reason": "personal_data"}).status_code == 303
    detail = html(body, f"{LIST}/{answer_id}")
    assert "Examiné : le commentaire a été retiré" in detail
    assert "Commentaire retiré." in detail
    assert network.texts["worst"] not in detail
    page = html(body, f"{LIST}?signalement=oui")
    assert f'id="review-{answer_id}"' in page
    assert network.texts["worst"] not in page
    assert network.texts["worst"] not in public(app, network.accounts["north"].siret,
                                                answer_id)[0]
