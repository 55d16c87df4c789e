"""Issue 12's "Done when", without a browser: the demo's moderator signs in with the
password ``avis demo`` prints, clears the demo queue through the queue's own forms
(comments, bodies' replies, bodies' reports), and what was published or rejected shows
so in API v1 and on the bodies' public pages. (The keyboard and axe-core side is
tests/e2e/test_moderation_keyboard.py, on a queue it must not empty.)"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from avis.accounts.demo import LOGINS
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.moderation.models import Report, ReportStatus
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus, Reply
from tests.accounts.fixtures import Browser, csrf_token

MODERATOR = next(login for login in LOGINS if login.email.startswith("moderation@"))
QUEUE = "/admin/moderation"


def waiting(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "comments": db.session.scalar(sa.select(sa.func.count()).select_from(Answer)
                                          .where(Answer.comment_status == CommentStatus.pending)),
            "replies": db.session.scalar(sa.select(sa.func.count()).select_from(Reply)
                                         .where(Reply.status == CommentStatus.pending)),
            "reports": db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                                         .where(Report.status == ReportStatus.open)),
        }


def clear_tab(moderator: Browser, tab: str, pattern: str,
              choose: Callable[[int], tuple[str, dict[str, str]]]) -> dict[int, str]:
    """Decide on every item the tab shows, page after page, until it shows none; the
    decision word taken for each item id."""
    decided: dict[int, str] = {}
    for _ in range(200):
        html = moderator.get(f"{QUEUE}?onglet={tab}").get_data(as_text=True)
        ids = sorted({int(i) for i in re.findall(pattern, html)} - set(decided))
        if not ids:
            assert not re.findall(pattern, html), f"the {tab} tab still shows decided items"
            return decided
        token = csrf_token(html)
        for item_id in ids:
            word, data = choose(item_id)
            response = moderator.client.post(
                _action(pattern, item_id, word),
                data={**data, "csrf_token": token, "retour": f"{QUEUE}?onglet={tab}"})
            assert response.status_code == 303, (item_id, word, response.status_code)
            decided[item_id] = word
    raise AssertionError(f"the {tab} tab never emptied")


def _action(pattern: str, item_id: int, word: str) -> str:
    return pattern.replace(r"(\d+)", str(item_id)).rsplit("/", 1)[0] + f"/{word}"


def test_the_demo_moderator_clears_the_demo_queue(
        app: Flask, runner: FlaskCliRunner, browser: Callable[[], Browser]) -> None:
    result = runner.invoke(args=["demo"])  # as `make run` loads it
    assert result.exit_code == 0, result.output
    assert MODERATOR.email in result.output
    assert MODERATOR.password in result.output
    before = waiting(app)
    assert before["comments"] >= 20, before
    assert before["replies"] >= 1, before
    assert before["reports"] >= 1, before

    moderator = browser()
    response = moderator.sign_in(MODERATOR.email, MODERATOR.password)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]

    comments = clear_tab(
        moderator, "attente", r"/admin/moderation/(\d+)/publier",
        lambda i: ("rejeter", {"reason": "insult"}) if i % 3 == 0
        else ("publier", {"qualification": "positive"}))
    replies = clear_tab(moderator, "reponses", r"/admin/moderation/reponses/(\d+)/publier",
                        lambda i: ("publier", {}))
    reports = clear_tab(moderator, "signalements",
                        r"/admin/moderation/signalements/(\d+)/garder",
                        lambda i: ("garder", {"message": "L’avis respecte la charte."}))
    assert len(comments) == before["comments"]
    assert (len(replies), len(reports)) == (before["replies"], before["reports"])
    assert waiting(app) == {"comments": 0, "replies": 0, "reports": 0}
    assert set(comments.values()) == {"publier", "rejeter"}

    with app.app_context():
        rows = db.session.execute(
            sa.select(Answer.id, Answer.comment_status, Answer.comment_text, TrainingBody.siret)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .join(Session, Session.id == Answer.session_id)
            .join(Score, sa.and_(Score.scope == ScoreScope.session,
                                 Score.key == sa.cast(Answer.session_id, sa.String),
                                 Score.is_public.is_(True)))
            .where(Answer.id.in_(comments))).all()
        # The demo's comments are made of recurring phrases: a rejected text may also be
        # another, published, comment's.
        published = {tuple(row) for row in db.session.execute(
            sa.select(TrainingBody.siret, Answer.comment_text)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .where(Answer.comment_status == CommentStatus.published))}
    assert {status for _i, status, _t, _s in rows} <= {CommentStatus.published,
                                                      CommentStatus.rejected}
    public = app.test_client()
    shown = {"publier": 0, "rejeter": 0}
    for answer_id, status, text, siret in rows:
        word = comments[answer_id]
        assert status == (CommentStatus.published if word == "publier"
                          else CommentStatus.rejected)
        review = public.get(f"/api/v1/avis/{answer_id}").get_json()
        page = public.get(f"/organismes/{siret}?page_avis=1").get_data(as_text=True)
        if word == "publier":
            assert review["commentaire"]["texte"] == text, answer_id
        else:
            assert review.get("commentaire") is None, answer_id
            if (siret, text) not in published:
                assert text not in page, answer_id
        shown[word] += 1
    assert min(shown.values()) > 0, shown
