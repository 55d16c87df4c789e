"""What a moderator does to a whole page: publish the comments the pre-screening did
not flag (after confirming), take the page as a batch; and the pre-screening filter."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from avis.audit.models import AuditEvent
from avis.db import db
from avis.moderation import jobs
from avis.moderation.models import ModerationEvent
from avis.surveys.models.answers import Answer
from tests.accounts.fixtures import Browser
from tests.moderation.conftest import Queue
from tests.moderation.test_queue import signed, text

QUEUE = "/admin/moderation"


def _flag_one(app: Flask, queue: Queue) -> int:
    """Give the queue's second comment a phone number, and screen what waits."""
    with app.app_context():
        answer = db.session.get(Answer, queue.pending[1])
        answer.comment_text = "Appelez la formatrice au 06 12 34 56 78 pour vous inscrire"
        db.session.execute(sa.update(Answer).values(flags=None))
        db.session.commit()
        assert jobs.screen_waiting()["comments"] == 5  # four here, one in région 53
    return queue.pending[1]


def statuses(app: Flask, ids: list[int]) -> list[str]:
    with app.app_context():
        return [str(db.session.get(Answer, i).comment_status) for i in ids]


def test_publish_the_unflagged_comments_of_the_page(app: Flask, queue: Queue,
                                                    browser: Callable[[], Browser]) -> None:
    flagged = _flag_one(app, queue)
    client = signed(browser, queue.moderator.email)
    page = text(client.get(QUEUE))
    ids = [*queue.pending, queue.elsewhere]  # a foreign id slipped into the form

    unconfirmed = client.submit(f"{QUEUE}/publier-la-page", {"ids": ids, "retour": QUEUE},
                                form_page=QUEUE)
    untouched = statuses(app, queue.pending)
    confirmed = client.submit(f"{QUEUE}/publier-la-page",
                              {"ids": ids, "confirm": "y", "retour": QUEUE}, form_page=QUEUE)

    assert "Publier les 3 commentaires sans signal" in page
    assert unconfirmed.status_code == confirmed.status_code == 303
    assert untouched == ["pending"] * 4
    assert "3 commentaires publiés. 1 laissé pour un examen attentif." in text(
        client.get(QUEUE))
    expected = ["pending" if i == flagged else "published" for i in queue.pending]
    assert statuses(app, queue.pending) == expected
    assert statuses(app, [queue.elsewhere]) == ["pending"]
    with app.app_context():
        published = [i for i in queue.pending if i != flagged]
        assert sorted(db.session.scalars(sa.select(ModerationEvent.answer_id).where(
            ModerationEvent.decision == "publish"))) == sorted(published)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "comment.publish",
            AuditEvent.actor_id == queue.moderator.id)) == 3
        # The fixture's comments are marked 4 everywhere: positive.
        assert set(db.session.scalars(sa.select(Answer.qualification).where(
            Answer.id.in_(published)))) == {"positive"}


def test_the_prescreening_filter(app: Flask, queue: Queue,
                                 browser: Callable[[], Browser]) -> None:
    flagged = _flag_one(app, queue)
    client = signed(browser, queue.moderator.email)

    phone = text(client.get(f"{QUEUE}?signal=phone"))
    personal = text(client.get(f"{QUEUE}?signal=donnees"))
    none = text(client.get(f"{QUEUE}?signal=aucun"))

    assert "1 élément" in phone
    assert "06 12 34 56 78" in phone
    assert "1 élément" in personal
    assert "3 éléments" in none
    assert "06 12 34 56 78" not in none
    assert client.get(f"{QUEUE}?signal=rien").status_code == 400
    with app.app_context():
        assert db.session.get(Answer, flagged).flags != 0


def test_batches(app: Flask, queue: Queue, browser: Callable[[], Browser]) -> None:
    first = signed(browser, queue.moderator.email)
    second = signed(browser, queue.other_moderator.email)

    taken = first.submit(f"{QUEUE}/prendre", {"ids": queue.pending[:2], "retour": QUEUE},
                         form_page=QUEUE)
    stolen = second.submit(f"{QUEUE}/prendre", {"ids": queue.pending, "retour": QUEUE},
                           form_page=QUEUE)
    seen_by_second = text(second.get(QUEUE))
    mine = text(first.get(f"{QUEUE}?lot=miens"))
    free_for_second = text(second.get(f"{QUEUE}?lot=libres"))

    assert taken.status_code == stolen.status_code == 303
    assert f"pris par {queue.moderator.email}" in seen_by_second
    assert "2 éléments" in mine
    assert "0 élément" in free_for_second  # the second took the other two
    with app.app_context():
        holders = dict(db.session.execute(sa.select(Answer.id, Answer.assigned_to_id).where(
            Answer.id.in_(queue.pending))).all())
    assert holders == {queue.pending[0]: queue.moderator.id,
                       queue.pending[1]: queue.moderator.id,
                       queue.pending[2]: queue.other_moderator.id,
                       queue.pending[3]: queue.other_moderator.id}

    first.submit(f"{QUEUE}/rendre", {"retour": QUEUE}, form_page=QUEUE)
    assert "2 éléments" in text(second.get(f"{QUEUE}?lot=libres"))
