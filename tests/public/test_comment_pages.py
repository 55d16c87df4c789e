"""The comments of a body's page (count and pages) against a plain reference computed
here from the rows: shown when published with consent, not archived, not excluded, from
a session large enough."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from avis import clock
from avis.db import db
from avis.public import reviews
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus, ExclusionReason
from tests.public.fixtures import ANGERS, LAVAL, NANTES, add_answer, add_body, add_offer, publish


def test_a_bodys_comment_pages_equal_the_reference(app_context: None) -> None:
    rng = random.Random(1606)
    body = add_body("Delta Formation")
    other = add_body("Epsilon Formation")
    offers = [add_offer(body, "Menuisier", NANTES), add_offer(body, "Soudeur", ANGERS),
              add_offer(body, "Peintre", LAVAL, enrolled=3),
              add_offer(other, "Menuisier", NANTES)]
    today = clock.today()
    days = [today - dt.timedelta(days=rng.randint(20, 800)) for _ in range(12)]
    for _ in range(150):
        kind = rng.random()
        answer = add_answer(
            rng.choice(offers), tuple(rng.randint(1, 5) for _ in range(5)),
            day=rng.choice(days),
            comment=None if kind < 0.2 else ("Titre", f"Texte {rng.random():.6f}"),
            status=rng.choice([CommentStatus.published, CommentStatus.published,
                               CommentStatus.pending, CommentStatus.rejected]),
            public=kind < 0.9)
        if rng.random() < 0.1:
            answer.excluded_reason = ExclusionReason.wrong_body
    publish()

    public = {int(k) for k in db.session.scalars(sa.select(Score.key).where(
        Score.scope == ScoreScope.session, Score.is_public.is_(True)))}
    window = reviews.review_window_start()
    expected = sorted(
        (a for a in db.session.scalars(sa.select(Answer).where(
            Answer.training_body_id == body.id))
         if a.comment_public and a.comment_text is not None
         and a.comment_status is CommentStatus.published and a.answered_on >= window
         and a.excluded_reason is None and a.session_id in public),
        key=lambda a: (a.answered_on, a.id), reverse=True)
    assert len(expected) > reviews.PAGE_SIZE
    pages = -(-len(expected) // reviews.PAGE_SIZE)
    for page in range(1, pages + 2):
        found = reviews.comments(Answer.training_body_id == body.id, page)
        assert found.total == len(expected)
        wanted = expected[(page - 1) * reviews.PAGE_SIZE:page * reviews.PAGE_SIZE]
        assert [c.text for c in found.items] == [a.comment_text for a in wanted]
