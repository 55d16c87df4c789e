"""Figures of moderation: what waits and since when, how long decisions take, and the
decisions month by month (by reason, by tone, by moderator); and the daily email to
moderators when items wait too long.

Every figure is taken within a scope (``Scope.where``): a région's moderator counts its
région's items only. ``ModerationEvent`` has no scope rule of its own: it is read joined
to the scoped ``Answer`` it is about.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal, ngettext
from sqlalchemy.orm import aliased

from avis import clock
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountStatus,
    Role,
)
from avis.accounts.scope import Scope
from avis.db import db
from avis.mail.suppressions import is_suppressed_clause
from avis.moderation.models import Decision, ModerationEvent, Report, ReportStatus, Subject
from avis.surveys.models.answers import Answer, CommentStatus, Reply

#: The median time to decision is over the decisions of this window.
RECENT = dt.timedelta(days=30)
#: Months of the decision tables, the current one included.
MONTHS = 12
#: A comment's first decision: what its waiting ends with (an undo makes it wait again,
#: but the time it took to be read first is what moderators are judged on).
FIRST_DECISIONS = (Decision.publish, Decision.reject)


@dataclass(frozen=True)
class Backlog:
    """Items of one kind waiting for a moderator."""

    subject: Subject
    count: int
    #: how long the oldest has waited; a comment's answer has a day and no time, so
    #: its age is in whole days
    age: dt.timedelta | None


@dataclass(frozen=True)
class Speed:
    """Decisions of one kind taken in the last ``RECENT``, and their median wait."""

    subject: Subject
    decided: int
    #: comments: in days (a half when the count is even), from the day of the answer
    median: dt.timedelta | None


@dataclass(frozen=True)
class ReasonCount:
    month: dt.date
    subject: str
    decision: str
    reason: str | None
    count: int


@dataclass(frozen=True)
class ModeratorCount:
    month: dt.date
    #: None when the account no longer exists (the history outlives accounts)
    email: str | None
    count: int


@dataclass(frozen=True)
class Figures:
    backlog: dict[Subject, Backlog]
    speed: dict[Subject, Speed]
    #: first days of the months of the tables, the current one first
    months: list[dt.date]
    by_reason: list[ReasonCount]
    #: published comments per month and qualification
    tones: dict[dt.date, dict[str, int]]
    by_moderator: list[ModeratorCount]


def gather(scope: Scope) -> Figures:
    """Everything the statistics page shows, within ``scope``."""
    months = month_starts(clock.today())
    by_reason, tones = _by_reason(scope, months)
    return Figures(backlog=backlog(scope), speed=speed(scope), months=months,
                   by_reason=by_reason, tones=tones, by_moderator=_by_moderator(scope, months))


# --- What waits ------------------------------------------------------------------------

def backlog(scope: Scope, *, waiting_before: dt.datetime | None = None
            ) -> dict[Subject, Backlog]:
    """Comments pending, replies pending and reports open in ``scope``, and how long the
    oldest of each has waited; with ``waiting_before``, only those waiting since before
    that instant."""
    now = clock.now()
    comments = sa.select(sa.func.count(), sa.func.min(Answer.answered_on)).where(
        scope.where(Answer), Answer.comment_status == CommentStatus.pending)
    since = sa.func.coalesce(Reply.updated_dt, Reply.created_dt)  # an edit waits again
    replies = sa.select(sa.func.count(), sa.func.min(since)).where(
        scope.where(Reply), Reply.status == CommentStatus.pending)
    reports = sa.select(sa.func.count(), sa.func.min(Report.created_dt)).where(
        scope.where(Report), Report.status == ReportStatus.open)
    if waiting_before is not None:
        # Answered the day before the limit's day at the latest: an answer of that day
        # may be from its last minute, so it has surely waited long enough only then.
        comments = comments.where(
            Answer.answered_on < waiting_before.astimezone(clock.PARIS).date())
        replies = replies.where(since < waiting_before)
        reports = reports.where(Report.created_dt < waiting_before)
    count, oldest_day = db.session.execute(comments).one()
    found = {Subject.comment: Backlog(Subject.comment, count, dt.timedelta(
        days=(clock.today() - oldest_day).days) if oldest_day else None)}
    for subject, statement in ((Subject.reply, replies), (Subject.report, reports)):
        count, oldest = db.session.execute(statement).one()
        found[subject] = Backlog(subject, count, now - oldest if oldest else None)
    return found


# --- How long decisions take ----------------------------------------------------------

def speed(scope: Scope) -> dict[Subject, Speed]:
    """The decisions of the last ``RECENT`` and the median time each item waited. In
    Python: a month of decisions is a few thousand rows, and the same code counts on
    both databases (SQLite has no percentile)."""
    since = clock.now() - RECENT
    earlier = aliased(ModerationEvent)
    first = db.session.execute(
        sa.select(Answer.answered_on, ModerationEvent.occurred_dt).select_from(Answer)
        .join(ModerationEvent, ModerationEvent.answer_id == Answer.id)
        .where(scope.where(Answer), ModerationEvent.subject == Subject.comment,
               ModerationEvent.decision.in_(FIRST_DECISIONS),
               ModerationEvent.occurred_dt >= since,
               ~sa.exists().where(earlier.answer_id == ModerationEvent.answer_id,
                                  earlier.subject == Subject.comment,
                                  earlier.decision.in_(FIRST_DECISIONS),
                                  earlier.id < ModerationEvent.id))).all()
    # Whole days between the answer's day and the decision's day, in France.
    comment_days = [(moment.astimezone(clock.PARIS).date() - day).days
                    for day, moment in first]
    replies = db.session.execute(
        sa.select(sa.func.coalesce(Reply.updated_dt, Reply.created_dt), Reply.moderated_dt)
        .where(scope.where(Reply), Reply.status != CommentStatus.pending,
               Reply.moderated_dt >= since)).all()
    reports = db.session.execute(
        sa.select(Report.created_dt, Report.decided_dt)
        .where(scope.where(Report), Report.status != ReportStatus.open,
               Report.decided_dt >= since)).all()
    return {
        Subject.comment: Speed(Subject.comment, len(comment_days),
                               dt.timedelta(days=statistics.median(comment_days))
                               if comment_days else None),
        Subject.reply: _speed(Subject.reply, replies),
        Subject.report: _speed(Subject.report, reports),
    }


def _speed(subject: Subject, rows: list[sa.Row]) -> Speed:
    # A reply edited after its decision has its edit time after the decision: its wait
    # is unknown, left out. (A withdrawal, rare, counts from the writing too.)
    waits = [end - start for start, end in rows if end >= start]
    return Speed(subject, len(waits), statistics.median(waits) if waits else None)


# --- Decisions month by month -----------------------------------------------------------

def month_starts(today: dt.date, count: int = MONTHS) -> list[dt.date]:
    """The first days of the last ``count`` months, the current one first."""
    starts = []
    year, month = today.year, today.month
    for _ in range(count):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts


def _midnight(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in France."""
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.PARIS).astimezone(dt.UTC)


def _events(scope: Scope, months: list[dt.date], *columns: sa.ColumnElement
            ) -> sa.Subquery:
    """The scope's decisions of ``months``, each with the index of its month. Paris
    months on both databases: SQLite knows no time zones, so each decision is compared
    with the first instant of each month (summer time included)."""
    month = sa.case(*((ModerationEvent.occurred_dt >= _midnight(start),
                       sa.literal_column(str(index)))
                      for index, start in enumerate(months)))
    return (sa.select(month.label("month"), *columns).select_from(Answer)
            .join(ModerationEvent, ModerationEvent.answer_id == Answer.id)
            .where(scope.where(Answer), ModerationEvent.occurred_dt >= _midnight(months[-1]))
            .subquery())


def _by_reason(scope: Scope, months: list[dt.date]
               ) -> tuple[list[ReasonCount], dict[dt.date, dict[str, int]]]:
    # Grouped outside the subquery: PostgreSQL does not take the CASE with its bound
    # dates for the same expression in SELECT and GROUP BY.
    events = _events(scope, months, ModerationEvent.subject, ModerationEvent.decision,
                     ModerationEvent.reason, ModerationEvent.qualification)
    rows = db.session.execute(
        sa.select(events.c.month, events.c.subject, events.c.decision, events.c.reason,
                  events.c.qualification, sa.func.count())
        .group_by(events.c.month, events.c.subject, events.c.decision, events.c.reason,
                  events.c.qualification)).all()
    counts: dict[tuple[int, str, str, str | None], int] = defaultdict(int)
    tones: dict[dt.date, dict[str, int]] = {}
    for month, subject, decision, reason, qualification, count in rows:
        counts[(month, str(subject), str(decision), reason)] += count
        if subject == Subject.comment and decision == Decision.publish and qualification:
            tone = tones.setdefault(months[month], {})
            tone[qualification] = tone.get(qualification, 0) + count
    by_reason = [ReasonCount(months[month], subject, decision, reason, count)
                 for (month, subject, decision, reason), count in counts.items()]
    by_reason.sort(key=lambda row: (-row.month.toordinal(), row.subject, -row.count,
                                    row.decision, row.reason or ""))
    return by_reason, tones


def _by_moderator(scope: Scope, months: list[dt.date]) -> list[ModeratorCount]:
    events = _events(scope, months, ModerationEvent.actor_id)
    rows = db.session.execute(
        sa.select(events.c.month, events.c.actor_id, sa.func.count())
        .group_by(events.c.month, events.c.actor_id)).all()
    # Staff addresses, shown to staff: who decided is what the table is for.
    emails = dict(db.session.execute(sa.select(Account.id, Account.email).where(
        Account.id.in_({actor for _, actor, _ in rows if actor is not None}))).all())
    found = [ModeratorCount(months[month], emails.get(actor), count)
             for month, actor, count in rows]
    found.sort(key=lambda row: (-row.month.toordinal(), -row.count, row.email or ""))
    return found


# --- Wording shared by the page and the email -----------------------------------------

def describe_wait(delta: dt.timedelta, *, in_days: bool = False) -> str:
    """"36 hours", "3 days", "1.5 days": hours under two days, days from then on (and
    always for comments, whose answer has no time)."""
    hours = delta.total_seconds() / 3600
    if not in_days and hours < 48:
        whole = round(hours)
        return ngettext("%(num)s hour", "%(num)s hours", whole)
    days = round(hours / 24, 1)
    # A fraction takes the plural ("1.5 days"; "1,5 jours" is usual French too).
    count = int(days) if days == int(days) else 2
    return ngettext("%(days)s day", "%(days)s days", count,
                    days=format_decimal(days, "#,##0.#"))


# --- The daily email ----------------------------------------------------------------------

def overdue(account: Account) -> dict[Subject, Backlog]:
    """What has waited longer than ``MODERATION_DELAY_HOURS`` in the account's scope."""
    delay = dt.timedelta(hours=current_app.config["MODERATION_DELAY_HOURS"])
    return backlog(Scope.of(account), waiting_before=clock.now() - delay)


def email_backlog() -> dict[str, int]:
    """Queue the backlog email to each active moderator with an item waiting longer than
    ``MODERATION_DELAY_HOURS`` in its scope: once a day (France) at most, whatever runs
    the job, never to a suppressed address. Its figures are taken again when it is sent:
    what was decided in the meantime is not told."""
    start_of_day = _midnight(clock.today())
    told_today = sa.exists().where(AccountMessage.account_id == Account.id,
                                   AccountMessage.kind == AccountMail.moderation_backlog,
                                   AccountMessage.created_dt >= start_of_day)
    moderators = db.session.scalars(
        sa.select(Account).where(Account.role == Role.moderator,
                                 Account.status == AccountStatus.active,
                                 ~is_suppressed_clause(Account.email), ~told_today)
        .order_by(Account.id)).all()
    counts = {"queued": 0, "nothing_overdue": 0}
    # Moderators of one région share their figures.
    found: dict[str | None, bool] = {}
    for account in moderators:
        if account.region_code not in found:
            found[account.region_code] = any(item.count for item in overdue(account).values())
        if found[account.region_code]:
            db.session.add(AccountMessage(account_id=account.id,
                                          kind=AccountMail.moderation_backlog))
            counts["queued"] += 1
        else:
            counts["nothing_overdue"] += 1
    db.session.commit()
    return counts
