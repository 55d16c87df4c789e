"""Periodic work on invitations: who gets which email when.

Every function is set-based (one INSERT … SELECT or UPDATE per step, whatever the
number of trainees) and idempotent: the unique (enrolment, kind) and (invitation,
sequence) keys make a second run, or a concurrent one, add nothing. Each queues its
emails as outbox rows in the same transaction as the invitations they belong to.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import UTCDateTime, db, insert_skipping_conflicts
from avis.mail.models import MessageStatus, OutboxMessage
from avis.mail.suppressions import is_suppressed_clause
from avis.surveys.models.invitations import (
    OPEN_STATUSES,
    Invitation,
    InvitationKind,
    InvitationStatus,
)

#: The email template of each (kind, first email or reminder).
TEMPLATES = {
    (InvitationKind.end_of_training, False): "invitation",
    (InvitationKind.end_of_training, True): "reminder",
    (InvitationKind.follow_up, False): "follow_up",
    (InvitationKind.follow_up, True): "follow_up_reminder",
}
#: Messages of an invitation still on their way: no reminder while one is.
_IN_FLIGHT = (MessageStatus.queued, MessageStatus.sending, MessageStatus.unknown)


def create_end_of_training_invitations() -> dict[str, int]:
    """Invite every enrolment of sessions ended ``INVITATION_DELAY_DAYS`` ago.

    Sessions ended longer ago than the link's lifetime are not surveyed: a run that
    was missed catches up, but importing an old file does not email a past year.
    Small sessions are invited like the others (they are protected at publication).
    """
    config = current_app.config
    latest_end = clock.today() - dt.timedelta(days=config["INVITATION_DELAY_DAYS"])
    earliest_end = latest_end - dt.timedelta(days=config["INVITATION_TTL_DAYS"])
    return _invite(InvitationKind.end_of_training, earliest_end, latest_end)


def create_follow_up_invitations() -> dict[str, int]:
    """Invite enrolments whose session ended ``FOLLOWUP_MONTHS`` months ago."""
    config = current_app.config
    latest_end = add_months(clock.today(), -config["FOLLOWUP_MONTHS"])
    earliest_end = latest_end - dt.timedelta(days=config["INVITATION_TTL_DAYS"])
    return _invite(InvitationKind.follow_up, earliest_end, latest_end)


def _invite(kind: InvitationKind, earliest_end: dt.date, latest_end: dt.date) -> dict[str, int]:
    now = clock.now()
    expires = now + dt.timedelta(days=current_app.config["INVITATION_TTL_DAYS"])
    # NOT IN (a subquery computed once) rather than NOT EXISTS: the table grows during
    # the INSERT, and PostgreSQL, trusting statistics of an empty table, would re-scan
    # it for every candidate row (minutes for 100,000 trainees instead of seconds).
    already = Enrolment.id.in_(sa.select(Invitation.enrolment_id).where(Invitation.kind == kind))
    candidates = (
        sa.select(
            Enrolment.id,
            sa.literal(kind.name, sa.String),
            sa.literal(InvitationStatus.pending.name, sa.String),
            _instant(now), _instant(expires), sa.literal(0), _instant(now),
        )
        .join(Session, Session.id == Enrolment.session_id)
        .join(Trainee, Trainee.id == Enrolment.trainee_id)
        # An erased trainee (no address) is never invited.
        .where(Session.end_date > earliest_end, Session.end_date <= latest_end, ~already,
               Trainee.email.is_not(None), ~is_suppressed_clause(Trainee.email))
    )
    columns = ["enrolment_id", "kind", "status", "created_dt", "expires_dt",
               "reminders_queued", "status_dt"]
    created = _insert_ignore(Invitation, columns, candidates)
    queued = _queue_first_emails(kind, now)
    db.session.commit()
    return {"invitations": created, "emails_queued": queued}


def _queue_first_emails(kind: InvitationKind, now: dt.datetime) -> int:
    """Queue the first email of every pending invitation that has none yet."""
    has_first = Invitation.id.in_(
        sa.select(OutboxMessage.invitation_id).where(OutboxMessage.sequence == 0))
    pending = sa.select(
        Invitation.id, sa.literal(0), sa.literal(TEMPLATES[kind, False]),
        sa.literal(MessageStatus.queued.name), sa.literal(0), _instant(now), _instant(now),
    ).where(Invitation.kind == kind, Invitation.status == InvitationStatus.pending, ~has_first)
    return _insert_ignore(OutboxMessage, ["invitation_id", "sequence", "template", "status",
                                          "attempts", "next_attempt_dt", "created_dt"], pending)


def queue_reminders() -> dict[str, int]:
    """Queue reminder n to non-respondents ``REMINDER_DELAYS_DAYS[n-1]`` days after the
    first email, and never: after expiry, to a suppressed address, after an answer, while
    another email of the invitation is on its way, or sooner after the previous email
    than the configured gap (a scheduler down for a week sends one reminder, not two)."""
    now = clock.now()
    delays = current_app.config["REMINDER_DELAYS_DAYS"]
    counts: dict[str, int] = {}
    # Latest reminders first: an invitation gets at most one reminder per run.
    for number in range(len(delays), 0, -1):
        delay = dt.timedelta(days=delays[number - 1])
        gap = delay - dt.timedelta(days=delays[number - 2] if number > 1 else 0)
        in_flight = Invitation.id.in_(sa.select(OutboxMessage.invitation_id)
                                      .where(OutboxMessage.status.in_(_IN_FLIGHT)))
        due = (
            sa.select(Invitation.id)
            .join(Enrolment, Enrolment.id == Invitation.enrolment_id)
            .join(Trainee, Trainee.id == Enrolment.trainee_id)
            .where(
                Invitation.status.in_(OPEN_STATUSES - {InvitationStatus.pending}),
                Invitation.reminders_queued == number - 1,
                Invitation.first_sent_dt <= now - delay,
                Invitation.last_sent_dt <= now - gap,
                Invitation.expires_dt > now,
                ~in_flight,
                Trainee.email.is_not(None),
                ~is_suppressed_clause(Trainee.email),
            )
        )
        total = 0
        for kind in InvitationKind:
            rows = sa.select(
                Invitation.id, sa.literal(number), sa.literal(TEMPLATES[kind, True]),
                sa.literal(MessageStatus.queued.name), sa.literal(0), _instant(now),
                _instant(now),
            ).where(Invitation.id.in_(due.where(Invitation.kind == kind)))
            total += _insert_ignore(OutboxMessage, [
                "invitation_id", "sequence", "template", "status", "attempts",
                "next_attempt_dt", "created_dt"], rows)
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.reminders_queued == number - 1,
                   Invitation.id.in_(sa.select(OutboxMessage.invitation_id)
                                     .where(OutboxMessage.sequence == number)))
            .values(reminders_queued=number)
            .execution_options(synchronize_session=False))
        counts[f"reminder_{number}"] = total
    db.session.commit()
    return counts


def expire_invitations() -> dict[str, int]:
    """Close invitations whose link expired, and cancel their emails not yet sent."""
    now = clock.now()
    expired = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.status.in_(OPEN_STATUSES), Invitation.expires_dt <= now)
        .values(status=InvitationStatus.expired, status_dt=now)
        .execution_options(synchronize_session=False)).rowcount
    cancelled = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status.in_([MessageStatus.queued, MessageStatus.unknown]),
               OutboxMessage.invitation_id.in_(
                   sa.select(Invitation.id).where(Invitation.status == InvitationStatus.expired)))
        .values(status=MessageStatus.cancelled, last_error="invitation expired")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return {"expired": expired, "emails_cancelled": cancelled}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's end (31 Aug − 6 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _instant(moment: dt.datetime) -> sa.BindParameter[dt.datetime]:
    return sa.bindparam(None, moment, type_=UTCDateTime())


def _insert_ignore(model: Any, columns: list[str], rows: sa.Select[Any]) -> int:
    """INSERT … SELECT that skips rows breaking a unique key (a concurrent run's)."""
    statement = (insert_skipping_conflicts(model.__table__).from_select(columns, rows)
                 # SQLAlchemy reads an INSERT's row count only when asked to.
                 .execution_options(preserve_rowcount=True))
    return db.session.execute(statement).rowcount
