"""Periodic work of moderation."""

from __future__ import annotations

import sqlalchemy as sa

from avis.db import db
from avis.moderation import prescreen
from avis.surveys.models.answers import Answer, Reply

#: Comments screened per statement: a bulk import or a restored backup may bring many.
BATCH = 500


def screen_waiting() -> dict[str, int]:
    """Pre-screen the comments and replies that wait unscreened (answers are screened as
    they are saved; this catches the rest), so that the queue can filter on flags."""
    counts = {"comments": 0, "replies": 0}
    for model, key, status, texts in (
            (Answer, "comments", Answer.comment_status,
             (Answer.comment_text, Answer.comment_title)),
            (Reply, "replies", Reply.status, (Reply.text, sa.null()))):
        while True:
            rows = db.session.execute(
                sa.select(model.id, *texts)
                .where(model.flags.is_(None), status == "pending")
                .order_by(model.id).limit(BATCH)).all()
            if not rows:
                break
            db.session.execute(sa.update(model), [
                {"id": row[0], "flags": prescreen.screen(row[1], row[2]).bits}
                for row in rows])
            db.session.commit()
            counts[key] += len(rows)
    return counts
