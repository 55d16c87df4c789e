"""The demo's campaigns, for the dashboard: the demo file is imported as one campaign;
its enrolments are split into two imports of six months each, and the older one had a
file with many addresses that do not work (its bounce rate above 10 %)."""

from __future__ import annotations

import datetime as dt
import decimal
import random

import sqlalchemy as sa

from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.surveys.jobs import add_months
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

#: The campaign ``avis demo`` imports under, then the two it becomes (older, newer).
IMPORTED = "démo"
CAMPAIGNS = ("démo-campagne-1", "démo-campagne-2")
#: Share of the older campaign's end-of-training invitations that bounced.
BOUNCE_SHARE = 0.15


def add_demo_campaigns(today: dt.date, seed: int = 0) -> dict[str, int]:
    """Split the demo's enrolments by the end of their session (six months ago and
    before: the first campaign), and bounce some unanswered invitations of the first;
    nothing when done already. Flushes; the caller commits."""
    older = sa.select(Session.id).where(Session.end_date < add_months(today, -6))
    moved = 0
    for campaign, where in ((CAMPAIGNS[0], Enrolment.session_id.in_(older)),
                            (CAMPAIGNS[1], sa.true())):
        moved += db.session.execute(
            sa.update(Enrolment).where(Enrolment.campaign == IMPORTED, where)
            .values(campaign=campaign).execution_options(synchronize_session=False)).rowcount
    first = (sa.select(Invitation)
             .join(Enrolment, Enrolment.id == Invitation.enrolment_id)
             .where(Enrolment.campaign == CAMPAIGNS[0],
                    Invitation.kind == InvitationKind.end_of_training))
    if db.session.scalar(first.where(Invitation.status == InvitationStatus.bounced)
                         .with_only_columns(Invitation.id).limit(1)) is not None:
        return {"enrolments": moved, "bounced": 0}
    total = db.session.scalar(first.with_only_columns(sa.func.count()))
    unanswered = db.session.scalars(
        first.where(Invitation.status == InvitationStatus.expired,
                    Invitation.first_sent_dt.is_not(None)).order_by(Invitation.enrolment_id)).all()
    chosen = random.Random(seed).sample(unanswered, min(len(unanswered),
                                                          round(BOUNCE_SHARE * (total or 0))))
    for invitation in chosen:
        # The addresses bounced an hour after the first email: never delivered, never
        # expired.
        invitation.status = InvitationStatus.bounced
        invitation.status_dt = (invitation.first_sent_dt or invitation.created_dt
                                ) + dt.timedelta(hours=1)
        invitation.delivered_dt = invitation.opened_dt = None
    db.session.flush()
    return {"enrolments": moved, "bounced": len(chosen)}


#: The body whose marks fall in the demo: the région-52 body with the most answers in both
#: periods of the score-drop rule; its recent answers get these marks (overall 2.4).
DROPPED_MARKS = {"welcome": 3, "content": 2, "trainers": 2, "equipment": 3, "support": 2}


def add_demo_score_drop(today: dt.date) -> int | None:
    """Lower the marks of the last 90 days of one body of région 52 that has answers in
    both periods, so that the alerts show a score dropping; the body's id (None when the
    demo has no such body). Flushes; the caller commits and scores."""
    from avis.monitoring.alerts import RECENT, YEAR
    from avis.surveys.models.answers import Answer

    recent_from = today - RECENT + dt.timedelta(days=1)
    is_recent = Answer.answered_on >= recent_from
    found = db.session.execute(
        sa.select(Answer.training_body_id)
        .where(Answer.region_code == "52", Answer.excluded_reason.is_(None),
               Answer.answered_on >= recent_from - YEAR)
        .group_by(Answer.training_body_id)
        .having(sa.func.count().filter(is_recent) >= 10,
                sa.func.count().filter(~is_recent) >= 10)
        .order_by(sa.func.count().desc(), Answer.training_body_id).limit(1)).scalar()
    if found is None:
        return None
    overall = decimal.Decimal(sum(DROPPED_MARKS.values())) / 5
    db.session.execute(
        sa.update(Answer).where(Answer.training_body_id == found, is_recent)
        .values(**DROPPED_MARKS, overall=overall, would_recommend=False)
        .execution_options(synchronize_session=False))
    db.session.flush()
    return found
