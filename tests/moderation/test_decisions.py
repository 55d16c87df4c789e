"""Moderators' decisions on comments: each one's effect on the public page, API v1 and
the scores; the history; two moderators deciding at once; scope."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.db import db
from avis.moderation import operations
from avis.moderation.models import ModerationEvent
from avis.scores.aggregate import recompute_all, refresh
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus
from tests.accounts.fixtures import create_account
from tests.moderation.conftest import Queue


def in_app(app: Flask, work: Callable[[], object]) -> object:
    with app.app_context():
        result = work()
        db.session.commit()
        return result


def answer(app: Flask, answer_id: int) -> Answer:
    with app.app_context():
        return db.session.get(Answer, answer_id)


def api_review(app: Flask, answer_id: int) -> dict:
    response = app.test_client().get(f"/api/v1/avis/{answer_id}")
    assert response.status_code == 200
    return response.get_json()


def body_page(app: Flask, siret: str) -> str:
    return app.test_client().get(f"/organismes/{siret}").get_data(as_text=True)


def test_publish_shows_the_comment_with_its_qualification(app: Flask, queue: Queue) -> None:
    first = queue.pending[0]
    assert "commentaire" not in api_review(app, first)
    assert "Commentaire numéro 0" not in body_page(app, queue.siret)

    in_app(app, lambda: operations.publish(first, "negative", by=queue.moderator))

    stored = answer(app, first)
    assert (stored.comment_status, stored.qualification, stored.moderated_by_id) == (
        CommentStatus.published, "negative", queue.moderator.id)
    assert api_review(app, first)["commentaire"] == {
        "titre": "Titre 0", "texte": "Commentaire numéro 0 à modérer"}
    assert "Commentaire numéro 0 à modérer" in body_page(app, queue.siret)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "comment.publish")).all()
        assert (event.object_id, event.actor_id, event.changes) == (
            str(first), queue.moderator.id, {"status": "pending", "qualification": "negative"})
        # The journal never holds the comment's words.
        assert "numéro" not in str(event.changes)


def test_reject_keeps_the_comment_off_and_the_marks_in(app: Flask, queue: Queue) -> None:
    first = queue.pending[0]
    in_app(app, lambda: operations.reject(first, "insult", by=queue.moderator))

    stored = answer(app, first)
    assert (stored.comment_status, stored.rejection_reason) == (CommentStatus.rejected, "insult")
    review = api_review(app, first)
    assert "commentaire" not in review
    assert review["notes"]["global"] == 4
    assert "Commentaire numéro 0" not in body_page(app, queue.siret)


def test_the_first_of_two_moderators_wins_and_the_second_learns_who(app: Flask,
                                                                    queue: Queue) -> None:
    first = queue.pending[0]
    in_app(app, lambda: operations.publish(first, "positive", by=queue.moderator))

    with app.app_context(), pytest.raises(operations.AlreadyDecided) as late:
        operations.reject(first, "off_topic", by=queue.other_moderator)
    assert (late.value.status, late.value.decision, late.value.actor_id) == (
        "published", "publish", queue.moderator.id)
    assert answer(app, first).comment_status == CommentStatus.published


def test_concurrent_decisions_on_postgresql(app: Flask, queue: Queue, database_url: str) -> None:
    """Ten moderators decide on one comment at the same moment: one decision stands."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent conditional updates need PostgreSQL (one writer on SQLite)")
    first = queue.pending[0]
    with app.app_context():
        moderators = [create_account(Role.moderator, region="52") for _ in range(10)]
    start = threading.Barrier(len(moderators))
    outcomes: list[str] = []

    def decide(moderator: Account, n: int) -> None:
        with app.app_context():
            start.wait(timeout=30)
            try:
                if n % 2:
                    operations.publish(first, "neutral", by=moderator)
                else:
                    operations.reject(first, "off_topic", by=moderator)
                db.session.commit()
                outcomes.append("decided")
            except operations.AlreadyDecided:
                db.session.rollback()
                outcomes.append("late")

    threads = [threading.Thread(target=decide, args=(m, n)) for n, m in enumerate(moderators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["decided"] + ["late"] * 9
    with app.app_context():
        events = db.session.scalars(sa.select(ModerationEvent).where(
            ModerationEvent.answer_id == first)).all()
    assert len(events) == 1


def test_redaction_keeps_the_original_for_moderators_only(app: Flask, queue: Queue) -> None:
    first = queue.pending[1]
    in_app(app, lambda: operations.redact(first, title=None,
                                          text="Commentaire numéro 1, nom masqué",
                                          by=queue.moderator))
    in_app(app, lambda: operations.publish(first, "neutral", by=queue.moderator))

    assert api_review(app, first)["commentaire"] == {"texte": "Commentaire numéro 1, nom masqué"}
    page = body_page(app, queue.siret)
    assert "nom masqué" in page
    assert "Titre 1" not in page
    with app.app_context():
        event = db.session.scalars(sa.select(ModerationEvent).where(
            ModerationEvent.answer_id == first, ModerationEvent.decision == "redact")).one()
        assert (event.previous_title, event.previous_text) == (
            "Titre 1", "Commentaire numéro 1 à modérer")
        audit = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "comment.redact")).one()
        assert "numéro" not in str(audit.changes)


def test_a_published_comment_is_withdrawn_and_an_undo_brings_it_back(app: Flask,
                                                                      queue: Queue) -> None:
    first = queue.pending[2]
    in_app(app, lambda: operations.publish(first, "positive", by=queue.moderator))
    in_app(app, lambda: operations.withdraw(first, "personal_data", by=queue.other_moderator))
    assert "commentaire" not in api_review(app, first)

    in_app(app, lambda: operations.undo(first, by=queue.moderator))

    assert answer(app, first).comment_status == CommentStatus.published
    assert "commentaire" in api_review(app, first)
    with app.app_context(), pytest.raises(operations.ModerationError, match="nothing_to_undo"):
        operations.undo(first, by=queue.moderator)


def test_undo_only_within_the_day(app: Flask, queue: Queue) -> None:
    first, second = queue.pending[0], queue.pending[1]
    evening = dt.datetime(2026, 12, 3, 22, 30, tzinfo=clock.PARIS)
    with clock.frozen_at(evening):
        in_app(app, lambda: operations.reject(first, "off_topic", by=queue.moderator))
        in_app(app, lambda: operations.reject(second, "off_topic", by=queue.moderator))
    with clock.frozen_at(evening + dt.timedelta(hours=1, minutes=29)):
        in_app(app, lambda: operations.undo(first, by=queue.moderator))
    with clock.frozen_at(evening + dt.timedelta(hours=1, minutes=31)), app.app_context(), \
            pytest.raises(operations.ModerationError, match="nothing_to_undo"):
        operations.undo(second, by=queue.moderator)
    assert answer(app, first).comment_status == CommentStatus.pending
    assert answer(app, second).comment_status == CommentStatus.rejected


def test_an_excluded_answer_leaves_listings_now_and_scores_at_the_refresh(
        app: Flask, queue: Queue) -> None:
    with app.app_context():
        recompute_all()

    def body_score() -> tuple[int, float]:
        with app.app_context():
            score = db.session.scalar(sa.select(Score).where(
                Score.scope == ScoreScope.body, Score.key == str(queue.body_id)))
            return score.answers_count, score.mean_overall

    assert body_score() == (5, pytest.approx(4.2))
    in_app(app, lambda: operations.exclude(queue.rating_only, "fraud", by=queue.moderator))

    assert app.test_client().get(f"/api/v1/avis/{queue.rating_only}").status_code == 404
    assert body_score() == (5, pytest.approx(4.2))  # until the refresh
    with app.app_context():
        refresh()
    assert body_score() == (4, pytest.approx(4.0))
    in_app(app, lambda: operations.include(queue.rating_only, by=queue.moderator))
    with app.app_context():
        refresh()
    assert body_score() == (5, pytest.approx(4.2))
    assert api_review(app, queue.rating_only)["id"] == str(queue.rating_only)


def test_a_moderator_of_another_region_cannot_decide(app: Flask, queue: Queue) -> None:
    with app.app_context():
        with pytest.raises(operations.NotFound):
            operations.publish(queue.pending[0], "positive", by=queue.moderator_53)
        with pytest.raises(operations.NotFound):
            operations.exclude(queue.rating_only, "fraud", by=queue.moderator_53)
        operations.publish(queue.elsewhere, "neutral", by=queue.moderator_53)
        with pytest.raises(operations.NotFound):
            operations.publish(queue.elsewhere, "neutral", by=queue.moderator)
        db.session.commit()
    assert answer(app, queue.pending[0]).comment_status == CommentStatus.pending
    assert answer(app, queue.elsewhere).comment_status == CommentStatus.published


def test_bad_decisions_are_refused(app: Flask, queue: Queue) -> None:
    with app.app_context():
        with pytest.raises(ValueError, match="enthusiastic"):
            operations.publish(queue.pending[0], "enthusiastic", by=queue.moderator)
        with pytest.raises(operations.ModerationError, match="empty_text"):
            operations.redact(queue.pending[0], title=None, text="  ", by=queue.moderator)
        with pytest.raises(operations.ModerationError, match="too_long"):
            operations.redact(queue.pending[0], title=None, text="x" * 2001,
                              by=queue.moderator)
        # A rating without a comment has nothing to moderate.
        with pytest.raises(operations.NotFound):
            operations.publish(queue.rating_only, "positive", by=queue.moderator)
        db.session.rollback()
    assert answer(app, queue.pending[0]).comment_status == CommentStatus.pending
