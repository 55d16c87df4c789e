"""Periodic work of moderation."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from avis.db import db
from avis.moderation import prescreen
from avis.moderation.models import Decision, ModerationEvent
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


def retract_from_open_data() -> dict[str, int]:
    """Write the open-data files again when a decision took something off the public
    pages after they were written (a withdrawal, a redaction, an exclusion, a report
    upheld, a publication undone): what moderation removes must not stay downloadable
    until the daily export. Publications wait for the daily export."""
    from avis.opendata.export import export_open_data
    from avis.opendata.files import open_data_folder, read_manifest

    written = [dt.datetime.fromisoformat(str(entry["generated_dt"]))
               for entry in read_manifest(open_data_folder()).values()
               if isinstance(entry, dict) and entry.get("generated_dt")]
    if not written:
        return {"exported": 0}  # nothing published yet: the daily export will be fresh
    removed = db.session.scalar(sa.select(sa.func.count()).select_from(ModerationEvent).where(
        ModerationEvent.occurred_dt >= min(written),
        sa.or_(ModerationEvent.decision.in_(
            [Decision.withdraw, Decision.redact, Decision.exclude, Decision.remove]),
            sa.and_(ModerationEvent.decision == Decision.undo,
                    ModerationEvent.previous_status == "published"))))
    db.session.rollback()  # no transaction held open through the export
    if not removed:
        return {"exported": 0}
    return {"exported": 1, **export_open_data()}
