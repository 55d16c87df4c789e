"""Training bodies' reports on reviews: the review stays online while the report waits;
the moderator keeps it or takes the comment off, with a message the body receives."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account, AccountMail, AccountMessage, Role
from avis.audit.models import AuditEvent
from avis.db import db
from avis.moderation import operations, reports
from avis.moderation.models import ModerationEvent, Report
from avis.moderation.operations import AlreadyDecided, ModerationError, NotFound
from avis.surveys.models.answers import Answer
from tests.accounts.fixtures import Browser, create_account
from tests.moderation.conftest import Queue
from tests.moderation.test_queue import signed, text

TAB = "/admin/moderation?onglet=signalements"


@pytest.fixture
def reported(app: Flask, queue: Queue) -> tuple[int, int, int]:
    """A published comment of the queue's body, reported by the body: (answer, report,
    the body's account)."""
    with app.app_context():
        body = create_account(Role.organisation, siret=queue.siret)
        answer_id = queue.pending[0]
        operations.publish(answer_id, "negative", by=db.session.get(Account, queue.moderator.id))
        report = reports.report(answer_id, "false_facts", "Cette personne n’a jamais suivi "
                                "la formation.", by=body)
        db.session.commit()
        return answer_id, report.id, body.id


def on_api(app: Flask, answer_id: int) -> bool:
    return "commentaire" in app.test_client().get(f"/api/v1/avis/{answer_id}").get_json()


def test_the_review_stays_online_while_the_report_waits(
        app: Flask, queue: Queue, reported: tuple[int, int, int],
        browser: Callable[[], Browser]) -> None:
    answer_id, _, body_id = reported
    listing = text(signed(browser, queue.moderator.email).get(TAB))

    assert on_api(app, answer_id)
    assert "Commentaire numéro 0 à modérer" in app.test_client().get(
        f"/organismes/{queue.siret}").get_data(as_text=True)
    assert "Signalements en attente (1)" in listing
    assert "Cette personne n’a jamais suivi la formation." in listing
    with app.app_context():
        body = db.session.get(Account, body_id)
        with pytest.raises(ModerationError, match="already_reported"):
            reports.report(answer_id, "other", "Encore", by=body)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_keep_with_a_message_to_the_body(app: Flask, queue: Queue,
                                          reported: tuple[int, int, int],
                                          browser: Callable[[], Browser]) -> None:
    answer_id, report_id, body_id = reported
    client = signed(browser, queue.moderator.email)

    empty = client.submit(f"/admin/moderation/signalements/{report_id}/garder",
                          {"message": "  ", "retour": TAB}, form_page=TAB)
    with app.app_context():
        assert db.session.get(Report, report_id).status == "open"
    kept = client.submit(f"/admin/moderation/signalements/{report_id}/garder",
                         {"message": "L’avis décrit une expérience réelle.", "retour": TAB},
                         form_page=TAB)

    assert (empty.status_code, kept.status_code) == (303, 303)
    assert on_api(app, answer_id)
    assert "Signalements en attente (0)" in text(client.get(TAB))
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert (report.status, report.message, report.decided_by_id) == (
            "kept", "L’avis décrit une expérience réelle.", queue.moderator.id)
        [message] = db.session.scalars(sa.select(AccountMessage).where(
            AccountMessage.kind == AccountMail.report_decided)).all()
        assert (message.account_id, message.report_id) == (body_id, report_id)
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "report",
            AuditEvent.object_id == str(report_id),
            AuditEvent.actor_id == queue.moderator.id)) == "report.keep"


def test_remove_takes_the_comment_off(app: Flask, queue: Queue,
                                      reported: tuple[int, int, int],
                                      browser: Callable[[], Browser]) -> None:
    answer_id, report_id, _ = reported
    client = signed(browser, queue.moderator.email)

    removed = client.submit(f"/admin/moderation/signalements/{report_id}/retirer",
                            {"reason": "personal_data", "message": "Retiré : un nom y figurait.",
                             "retour": TAB}, form_page=TAB)

    assert removed.status_code == 303
    assert not on_api(app, answer_id)
    with app.app_context():
        assert db.session.execute(sa.select(Answer.comment_status, Answer.rejection_reason)
                                  .where(Answer.id == answer_id)).one() == (
            "rejected", "personal_data")
        assert db.session.get(Report, report_id).status == "removed"
        decisions = db.session.execute(
            sa.select(ModerationEvent.subject, ModerationEvent.decision)
            .where(ModerationEvent.answer_id == answer_id).order_by(ModerationEvent.id)).all()
        assert decisions == [("comment", "publish"), ("report", "remove"),
                             ("comment", "withdraw")]
        second = db.session.get(Account, queue.other_moderator.id)
        with pytest.raises(AlreadyDecided):
            reports.keep(report_id, "Trop tard", by=second)


def test_scope_and_who_may_report(app: Flask, queue: Queue, reported: tuple[int, int, int],
                                  browser: Callable[[], Browser]) -> None:
    _, report_id, body_id = reported
    outsider = signed(browser, queue.moderator_53.email)

    refused = outsider.submit(f"/admin/moderation/signalements/{report_id}/garder",
                              {"message": "Non"}, form_page="/admin/moderation")

    assert refused.status_code == 404
    assert "Signalements en attente (0)" in text(outsider.get(TAB))
    with app.app_context():
        assert db.session.get(Report, report_id).status == "open"
        with pytest.raises(NotFound):
            reports.report(queue.elsewhere, "abuse", "Pas chez nous",
                           by=db.session.get(Account, body_id))
        with pytest.raises(ModerationError, match="not_a_body"):
            reports.report(queue.pending[1], "abuse", "Un modérateur ne signale pas",
                           by=db.session.get(Account, queue.moderator.id))
