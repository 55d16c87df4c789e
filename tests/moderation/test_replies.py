"""Training bodies' replies, moderated like comments: waiting, published next to the
review on the public page, API v1 and widget, back to the queue when edited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.db import db
from avis.moderation import replies
from avis.moderation.operations import AlreadyDecided, ModerationError, NotFound
from avis.surveys.models.answers import CommentStatus, Reply
from tests.accounts.fixtures import Browser, create_account
from tests.moderation.conftest import Queue
from tests.moderation.test_queue import signed, text
from tests.public.fixtures import add_body

REPLY = "Merci pour votre retour, nous avons changé de salle depuis."


@pytest.fixture
def body_account(app: Flask, queue: Queue) -> Account:
    with app.app_context():
        return create_account(Role.organisation, siret=queue.siret)


def _published_with_reply(app: Flask, queue: Queue, body_account: Account) -> tuple[int, int]:
    """A published comment of the queue's body, and the body's reply to it (waiting)."""
    with app.app_context():
        answer_id = queue.pending[0]
        from avis.moderation import operations

        operations.publish(answer_id, "positive", by=db.session.get(Account,
                                                                    queue.moderator.id))
        reply = replies.write(answer_id, REPLY, by=db.session.get(Account, body_account.id))
        db.session.commit()
        return answer_id, reply.id


def shown(app: Flask, siret: str, answer_id: int) -> dict[str, bool]:
    """Whether the reply shows on the body's public page, API v1 and widget."""
    client = app.test_client()
    api = client.get(f"/api/v1/avis/{answer_id}").get_json()
    return {"page": REPLY in client.get(f"/organismes/{siret}").get_data(as_text=True),
            "api": api.get("reponse") == {"texte": REPLY},
            "widget": REPLY in client.get(f"/widget/organisme/liste?identifiant={siret}")
            .get_data(as_text=True)}


def test_a_reply_waits_then_shows_next_to_the_review_everywhere(
        app: Flask, queue: Queue, body_account: Account,
        browser: Callable[[], Browser]) -> None:
    answer_id, reply_id = _published_with_reply(app, queue, body_account)
    client = signed(browser, queue.moderator.email)

    before = shown(app, queue.siret, answer_id)
    listing = text(client.get("/admin/moderation?onglet=reponses"))
    response = client.submit(f"/admin/moderation/reponses/{reply_id}/publier",
                             {"retour": "/admin/moderation?onglet=reponses"},
                             form_page="/admin/moderation?onglet=reponses")
    after = shown(app, queue.siret, answer_id)

    assert before == {"page": False, "api": False, "widget": False}
    assert "Réponses en attente (1)" in listing
    assert REPLY in listing
    assert response.status_code == 303
    assert after == {"page": True, "api": True, "widget": True}
    with app.app_context():
        reply = db.session.get(Reply, reply_id)
        assert (reply.status, reply.moderated_by_id) == ("published", queue.moderator.id)
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "reply", AuditEvent.object_id == str(reply_id),
            AuditEvent.actor_id == queue.moderator.id)) == "reply.publish"


def test_an_edited_reply_goes_back_to_the_queue(app: Flask, queue: Queue,
                                                body_account: Account) -> None:
    answer_id, reply_id = _published_with_reply(app, queue, body_account)
    with app.app_context():
        replies.publish(reply_id, by=db.session.get(Account, queue.moderator.id))
        db.session.commit()
    assert shown(app, queue.siret, answer_id)["api"]

    with app.app_context():
        replies.write(answer_id, REPLY + " Et le matériel.",
                      by=db.session.get(Account, body_account.id))
        db.session.commit()
        reply = db.session.get(Reply, reply_id)
        assert (reply.status, reply.updated_dt is not None) == ("pending", True)
    api = app.test_client().get(f"/api/v1/avis/{answer_id}").get_json()
    assert "reponse" not in api


def test_reject_withdraw_undo_and_second_moderator(app: Flask, queue: Queue,
                                                   body_account: Account) -> None:
    _, reply_id = _published_with_reply(app, queue, body_account)
    with app.app_context():
        first = db.session.get(Account, queue.moderator.id)
        second = db.session.get(Account, queue.other_moderator.id)
        replies.reject(reply_id, "insult", by=first)
        db.session.commit()
        with pytest.raises(AlreadyDecided) as late:
            replies.publish(reply_id, by=second)
        db.session.rollback()
        assert (late.value.actor_id, late.value.decision) == (first.id, "reject")

        replies.undo(reply_id, by=first)
        replies.publish(reply_id, by=second)
        replies.withdraw(reply_id, "personal_data", by=second)
        db.session.commit()
        assert db.session.execute(sa.select(Reply.status, Reply.rejection_reason).where(
            Reply.id == reply_id)).one() == ("rejected", "personal_data")


def test_scope_and_who_may_write(app: Flask, queue: Queue, body_account: Account,
                                 browser: Callable[[], Browser]) -> None:
    _, reply_id = _published_with_reply(app, queue, body_account)
    outsider = signed(browser, queue.moderator_53.email)

    refused = outsider.submit(f"/admin/moderation/reponses/{reply_id}/publier", {},
                              form_page="/admin/moderation")

    assert refused.status_code == 404
    assert REPLY not in text(outsider.get("/admin/moderation?onglet=reponses"))
    with app.app_context():
        assert db.session.get(Reply, reply_id).status == CommentStatus.pending
        other_body = create_account(Role.organisation, siret=add_body("Autre organisme").siret)
        with pytest.raises(NotFound):
            replies.write(queue.elsewhere, "Une réponse", by=other_body)
        with pytest.raises(ModerationError, match="not_a_body"):
            replies.write(queue.pending[1], "Une réponse",
                          by=db.session.get(Account, queue.moderator.id))
        body = db.session.get(Account, body_account.id)
        with pytest.raises(ModerationError, match="reply_too_long"):
            replies.write(queue.pending[1], "x" * (replies.MAX_REPLY + 1), by=body)
        with pytest.raises(ModerationError, match="empty_text"):
            replies.write(queue.pending[1], "   ", by=body)
