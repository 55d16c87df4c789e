"""Alerts for Region staff: found by a daily job, acknowledged by people, reopened when
the condition gets worse, closed when it clears; and the weekly email that tells them.

The rules, each per région (the sessions' région), on the Paris day ``today``:

- **score drop**: a body's fair score (``scores.aggregate.fair_score``, the région's mean
  as prior) over the last 90 days is at least ``SCORE_DROP`` below its fair score over
  the 12 months before, with ``ALERT_MIN_ANSWERS`` answers or more in both periods;
- **negative reviews**: ``ALERT_NEGATIVE_REVIEWS`` or more negative reviews of a body
  answered in the last 90 days: a comment the moderators read as negative, or an
  overall mark of 2 or less. Regions send inspectors past such a threshold;
- **bounces**: more than ``BOUNCE_RATE`` of a campaign's end-of-training emails first
  sent in the last 12 months bounced, with ``MIN_SENT`` sent or more;
- **low response**: a body's response rate (answers ÷ emails delivered, first sent in
  the last 12 months, ``MIN_SENT`` delivered or more) is under half its région's;
- **serious alert**: a comment a moderator rejected as a serious alert in the last 90
  days (one alert per comment: the Region reads it and acts).

Answers excluded from the scores count nowhere. An acknowledged alert opens again when
its measure gets worse than when it was acknowledged (``WORSE``); an alert whose
condition no longer holds is closed, and opens again if it comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.accounts.models import Account, AccountMail, AccountMessage, AccountStatus, Role
from avis.accounts.scope import Scope
from avis.audit.operations import record
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.mail.suppressions import is_suppressed_clause
from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus, DigestOptOut
from avis.scores.aggregate import fair_score, regional_statistics, stored_priors
from avis.surveys.models.answers import Answer, CommentStatus, Qualification, RejectionReason
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

RECENT = dt.timedelta(days=90)
YEAR = dt.timedelta(days=365)
#: Score points a body's fair score must lose.
SCORE_DROP = 0.3
#: A campaign's share of bounced emails above which staff are told.
BOUNCE_RATE = 0.10
#: Emails a campaign or a body must have had sent (delivered) before a rate means much.
MIN_SENT = 20
#: An overall mark at or under this is a negative review.
NEGATIVE_MARK = 2
#: How much worse than when acknowledged before an alert opens again, per rule (in the
#: rule's measure; None: never, each serious alert is its own).
WORSE: dict[AlertRule, Callable[[float, float], bool] | None] = {
    AlertRule.score_drop: lambda now, then: now >= then + 0.1,
    AlertRule.negative_reviews: lambda now, then: now > then,
    AlertRule.bounces: lambda now, then: now >= then + 0.02,
    AlertRule.low_response: lambda now, then: now <= then - 0.1,
    AlertRule.serious_alert: None,
}


@dataclass(frozen=True)
class Found:
    """A condition that holds today."""

    rule: AlertRule
    region_code: str
    subject_key: str
    value: float
    details: dict[str, object] = field(default_factory=dict)
    training_body_id: int | None = None
    campaign: str | None = None
    answer_id: int | None = None


# --- the rules ---------------------------------------------------------------------------


def _counted() -> sa.ColumnElement[bool]:
    return sa.and_(Answer.excluded_reason.is_(None), Answer.region_code.is_not(None))


def score_drops(today: dt.date) -> Iterable[Found]:
    recent_from = today - RECENT + dt.timedelta(days=1)
    previous_from = recent_from - YEAR
    is_recent = Answer.answered_on >= recent_from
    overall = sa.cast(Answer.overall, sa.Float)
    rows = db.session.execute(
        sa.select(Answer.training_body_id, Answer.region_code,
                  sa.func.count().filter(is_recent).label("n_recent"),
                  sa.func.sum(overall).filter(is_recent).label("sum_recent"),
                  sa.func.count().filter(~is_recent).label("n_previous"),
                  sa.func.sum(overall).filter(~is_recent).label("sum_previous"))
        .where(_counted(), Answer.answered_on >= previous_from, Answer.answered_on <= today)
        .group_by(Answer.training_body_id, Answer.region_code)).all()
    minimum = current_app.config["ALERT_MIN_ANSWERS"]
    priors: dict[str, float] | None = None
    for row in rows:
        if row.n_recent < minimum or row.n_previous < minimum:
            continue
        if priors is None:
            priors = _region_means()
        prior = priors.get(row.region_code)
        if prior is None:
            continue
        before = fair_score(row.n_previous, row.sum_previous / row.n_previous, prior, None)[0]
        after = fair_score(row.n_recent, row.sum_recent / row.n_recent, prior, None)[0]
        if before - after >= SCORE_DROP - 1e-9:
            yield Found(AlertRule.score_drop, row.region_code, f"body:{row.training_body_id}",
                        round(before - after, 2),
                        {"before": round(before, 2), "after": round(after, 2),
                         "recent": row.n_recent, "previous": row.n_previous},
                        training_body_id=row.training_body_id)


def _region_means() -> dict[str, float]:
    """The régions' means the scores use as priors (those of the last full run, else
    computed now)."""
    stored = stored_priors()
    return stored[0] if stored is not None else regional_statistics()[0]


def negative_reviews(today: dt.date) -> Iterable[Found]:
    negative = sa.or_(
        sa.and_(Answer.comment_status == CommentStatus.published,
                Answer.qualification == Qualification.negative),
        Answer.overall <= NEGATIVE_MARK)
    threshold = current_app.config["ALERT_NEGATIVE_REVIEWS"]
    rows = db.session.execute(
        sa.select(Answer.training_body_id, Answer.region_code, sa.func.count().label("n"))
        .where(_counted(), negative, Answer.answered_on > today - RECENT,
               Answer.answered_on <= today)
        .group_by(Answer.training_body_id, Answer.region_code)
        .having(sa.func.count() >= threshold)).all()
    for row in rows:
        yield Found(AlertRule.negative_reviews, row.region_code,
                    f"body:{row.training_body_id}", float(row.n),
                    {"count": row.n, "threshold": threshold},
                    training_body_id=row.training_body_id)


def _sent_since(today: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(Invitation.kind == InvitationKind.end_of_training,
                   Invitation.first_sent_dt.is_not(None),
                   Invitation.first_sent_dt >= _midnight(today - YEAR + dt.timedelta(days=1)),
                   Invitation.first_sent_dt < _midnight(today + dt.timedelta(days=1)))


def bounces(today: dt.date) -> Iterable[Found]:
    bounced = Invitation.status == InvitationStatus.bounced
    rows = db.session.execute(
        sa.select(Enrolment.campaign, Session.region_code, sa.func.count().label("sent"),
                  sa.func.count().filter(bounced).label("bounced"))
        .select_from(Invitation).join(Enrolment, Enrolment.id == Invitation.enrolment_id)
        .join(Session, Session.id == Enrolment.session_id)
        .where(_sent_since(today))
        .group_by(Enrolment.campaign, Session.region_code)
        .having(sa.func.count() >= MIN_SENT)).all()
    for row in rows:
        rate = row.bounced / row.sent
        if rate > BOUNCE_RATE:
            yield Found(AlertRule.bounces, row.region_code, f"campaign:{row.campaign}",
                        round(rate, 4), {"sent": row.sent, "bounced": row.bounced},
                        campaign=row.campaign)


#: An email that reached its trainee: sent, and neither bounced nor failed (as the scores'
#: response rate counts).
_DELIVERED = Invitation.status.not_in([InvitationStatus.bounced, InvitationStatus.failed])


def low_responses(today: dt.date) -> Iterable[Found]:
    answered = Invitation.status == InvitationStatus.answered
    rows = db.session.execute(
        sa.select(Action.training_body_id, Session.region_code,
                  sa.func.count().label("delivered"),
                  sa.func.count().filter(answered).label("answered"))
        .select_from(Invitation).join(Enrolment, Enrolment.id == Invitation.enrolment_id)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .where(_sent_since(today), _DELIVERED)
        .group_by(Action.training_body_id, Session.region_code)).all()
    regions: dict[str, list[int]] = {}
    for row in rows:
        totals = regions.setdefault(row.region_code, [0, 0])
        totals[0] += row.delivered
        totals[1] += row.answered
    for row in rows:
        delivered, answered_in_region = regions[row.region_code]
        if row.delivered < MIN_SENT or not answered_in_region:
            continue
        region_rate = answered_in_region / delivered
        rate = row.answered / row.delivered
        if rate < region_rate / 2:
            yield Found(AlertRule.low_response, row.region_code,
                        f"body:{row.training_body_id}", round(rate / region_rate, 4),
                        {"rate": round(rate, 4), "region_rate": round(region_rate, 4),
                         "delivered": row.delivered, "answered": row.answered},
                        training_body_id=row.training_body_id)


def serious_alerts(today: dt.date) -> Iterable[Found]:
    rows = db.session.execute(
        sa.select(Answer.id, Answer.region_code, Answer.training_body_id, Answer.moderated_dt)
        .where(Answer.region_code.is_not(None),
               Answer.comment_status == CommentStatus.rejected,
               Answer.rejection_reason == RejectionReason.serious_alert,
               Answer.moderated_dt >= _midnight(today - RECENT + dt.timedelta(days=1)))).all()
    for row in rows:
        yield Found(AlertRule.serious_alert, row.region_code, f"answer:{row.id}", 1.0,
                    {"rejected_on": row.moderated_dt.astimezone(clock.PARIS).date().isoformat()},
                    training_body_id=row.training_body_id, answer_id=row.id)


RULES: tuple[Callable[[dt.date], Iterable[Found]], ...] = (
    score_drops, negative_reviews, bounces, low_responses, serious_alerts)


def _midnight(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in France."""
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.PARIS).astimezone(dt.UTC)


# --- the daily job -----------------------------------------------------------------------


def detect() -> dict[str, int]:
    """Find every condition today, open what is new, reopen what came back or worsened,
    close what cleared; one transaction, committed."""
    now = clock.now()
    today = clock.today()
    found = {(f.rule, f.region_code, f.subject_key): f for rule in RULES for f in rule(today)}
    counts = {"opened": 0, "reopened": 0, "updated": 0, "closed": 0}
    known = {(a.rule, a.region_code, a.subject_key): a
             for a in db.session.scalars(sa.select(Alert))}
    for key, alert in known.items():
        current = found.get(key)
        if current is None:
            if alert.status != AlertStatus.closed:
                alert.status, alert.closed_dt = AlertStatus.closed, now
                counts["closed"] += 1
            continue
        _refresh(alert, current, now)
        # Back after clearing, or worse than when someone acknowledged it.
        if alert.status == AlertStatus.closed or (
                alert.status == AlertStatus.acknowledged and _worse(alert)):
            _reopen(alert, now)
            counts["reopened"] += 1
        else:
            counts["updated"] += 1
    for key, current in found.items():
        if key not in known:
            alert = Alert(rule=current.rule, region_code=current.region_code,
                          subject_key=current.subject_key, opened_dt=now)
            _refresh(alert, current, now)
            db.session.add(alert)
            counts["opened"] += 1
    db.session.commit()
    return counts


def _refresh(alert: Alert, current: Found, now: dt.datetime) -> None:
    alert.value, alert.details, alert.seen_dt = current.value, current.details, now
    alert.training_body_id = current.training_body_id
    alert.campaign, alert.answer_id = current.campaign, current.answer_id


def _worse(alert: Alert) -> bool:
    compare = WORSE[alert.rule]
    return (compare is not None and alert.acknowledged_value is not None
            and compare(alert.value, alert.acknowledged_value))


def _reopen(alert: Alert, now: dt.datetime) -> None:
    alert.status, alert.opened_dt, alert.closed_dt = AlertStatus.open, now, None
    alert.reopened += 1


# --- people ------------------------------------------------------------------------------


class AlreadyDone(Exception):
    """The alert is not open (someone acknowledged it, or it cleared)."""


def acknowledge(alert_id: int, note: str, *, by: Account) -> None:
    """Acknowledge an open alert with a note: one conditional UPDATE (two people at once:
    the first one wins) and its audit event, committed together."""
    now = clock.now()
    done = db.session.execute(
        sa.update(Alert).where(Alert.id == alert_id, Alert.status == AlertStatus.open)
        .values(status=AlertStatus.acknowledged, acknowledged_by_id=by.id,
                acknowledged_dt=now, acknowledged_value=Alert.value, note=note)
        .execution_options(synchronize_session=False))
    if not done.rowcount:
        db.session.rollback()
        raise AlreadyDone
    record("alert.acknowledged", object_type="alert", object_id=alert_id,
           changes={"note_length": len(note)}, actor=by)
    db.session.commit()


def set_digest(account: Account, wanted: bool) -> None:
    """Receive the weekly email or not (audited)."""
    found = db.session.get(DigestOptOut, account.id)
    if wanted == (found is None):
        return
    if wanted:
        db.session.delete(found)
    else:
        db.session.add(DigestOptOut(account_id=account.id))
    record("alert.digest_" + ("on" if wanted else "off"), object_type="account",
           object_id=account.id, actor=account)
    db.session.commit()


def wants_digest(account: Account) -> bool:
    return db.session.get(DigestOptOut, account.id) is None


# --- the weekly email ---------------------------------------------------------------------


#: The day of the week the email leaves (Monday), in France.
DIGEST_WEEKDAY = 0


def email_digest() -> dict[str, int]:
    """On Mondays (France), queue the week's alerts email to each active Region staff
    account that has not opted out, is not suppressed, and has not had it in the last six
    days. What it says is read when it is sent: nothing open then, nothing sent."""
    counts = {"queued": 0}
    if clock.today().weekday() != DIGEST_WEEKDAY:
        return counts
    told = sa.exists().where(AccountMessage.account_id == Account.id,
                             AccountMessage.kind == AccountMail.alerts_digest,
                             AccountMessage.created_dt >= clock.now() - dt.timedelta(days=6))
    opted_out = sa.exists().where(DigestOptOut.account_id == Account.id)
    accounts = db.session.scalars(
        sa.select(Account.id).where(Account.role == Role.region,
                                    Account.status == AccountStatus.active,
                                    ~is_suppressed_clause(Account.email), ~told, ~opted_out)
        .order_by(Account.id)).all()
    for account_id in accounts:
        db.session.add(AccountMessage(account_id=account_id, kind=AccountMail.alerts_digest))
        counts["queued"] += 1
    db.session.commit()
    return counts


def digest_of(account: Account) -> list[Any]:
    """The open alerts an account sees, newest first (what the weekly email lists)."""
    return list(db.session.scalars(
        sa.select(Alert).where(Scope.of(account).where(Alert),
                               Alert.status == AlertStatus.open)
        .order_by(Alert.opened_dt.desc(), Alert.id.desc())))
