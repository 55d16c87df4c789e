"""A training body's reviews as its accounts read them: which ones it may see, what it
sees of each, and its read marks and visits.

A body reads what the public reads, one review at a time: published comments and the
marks of answers without a public comment, from sessions large enough that nobody can
be recognised. Comments awaiting moderation and rejected ones are only counted (a
rejected text may name someone, or insult them); the moderator's reading of a comment
(its tone) and the moderation history are the moderators' own. A review the body
reported stays listed after its comment was taken off, without the comment, so that the
body sees how its report ended.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from avis import clock
from avis.accounts.models import Account
from avis.accounts.scope import Scope
from avis.audit.operations import record
from avis.bodies.models.reads import ReviewRead, ReviewVisit
from avis.catalog.models.courses import Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db, insert_skipping_conflicts
from avis.moderation.models import Report
from avis.public.reviews import from_public_session, public_month, shown_statuses
from avis.surveys.models.answers import DIMENSIONS, Answer, CommentStatus, Reply

#: Reviews per page.
PAGE_SIZE = 20
#: A visit goes on while the list is opened again within this time: "new since the last
#: visit" does not empty itself on the second page, or after a reply.
VISIT_GAP = dt.timedelta(minutes=30)


def comment_shown() -> sa.ColumnElement[bool]:
    """The answer's comment is public (the body reads exactly what the public reads)."""
    return sa.and_(Answer.comment_public.is_(True), Answer.comment_text.is_not(None),
                   Answer.comment_status.in_(shown_statuses()))


def _reported() -> sa.ColumnElement[bool]:
    # An alias: the review's own row of ``reports`` is also joined to the listed rows.
    report = aliased(Report)
    return sa.exists().where(report.answer_id == Answer.id)


def listed(account: Account) -> sa.ColumnElement[bool]:
    """The answers ``account`` sees one by one: within its scope, from a public session,
    with a public comment or none meant for publication — or reported by its body."""
    return sa.and_(
        Scope.of(account).where(Answer), from_public_session(),
        sa.or_(comment_shown(), Answer.comment_status.is_(None), _reported()))


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to (each None: no filter)."""

    new: bool = False
    #: True: read ones; False: unread ones
    read: bool | None = None
    #: True: with a reply (any state); False: without
    replied: bool | None = None
    #: True: reported by the body; False: not
    reported: bool | None = None
    course_id: int | None = None
    #: the first of the session's month (its end)
    month: dt.date | None = None
    #: 1 to 5: overall marks from n to n + 0.9 (5: exactly 5)
    mark: int | None = None


def _read_by(account: Account) -> sa.ColumnElement[bool]:
    return sa.exists().where(ReviewRead.account_id == account.id,
                             ReviewRead.answer_id == Answer.id)


def _new_since(since: dt.datetime | None) -> sa.ColumnElement[bool]:
    """Shown since ``since``: a comment published since, or marks given since. An answer
    has a day, not a time (a time could point to a person): marks of the day of the last
    visit count as new again rather than be missed."""
    if since is None:
        return sa.true()
    return sa.or_(Answer.moderated_dt > since,
                  sa.and_(Answer.moderated_dt.is_(None),
                          Answer.answered_on >= since.astimezone(clock.PARIS).date()))


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def _filtered(account: Account, filters: Filters, since: dt.datetime | None
              ) -> sa.ColumnElement[bool]:
    conditions = [listed(account)]
    if filters.new:
        conditions.append(_new_since(since))
    if filters.read is not None:
        read = _read_by(account)
        conditions.append(read if filters.read else sa.not_(read))
    if filters.replied is not None:
        reply = aliased(Reply)
        replied = sa.exists().where(reply.answer_id == Answer.id)
        conditions.append(replied if filters.replied else sa.not_(replied))
    if filters.reported is not None:
        conditions.append(_reported() if filters.reported else sa.not_(_reported()))
    if filters.course_id is not None:
        conditions.append(Answer.course_id == filters.course_id)
    if filters.month is not None:
        conditions.append(Answer.session_id.in_(sa.select(Session.id).where(
            Session.end_date >= filters.month, Session.end_date < _next_month(filters.month))))
    if filters.mark is not None:
        low = decimal.Decimal(filters.mark)
        conditions.append(Answer.overall == low if filters.mark == 5
                          else sa.and_(Answer.overall >= low, Answer.overall < low + 1))
    return sa.and_(*conditions)


@dataclass(frozen=True)
class Review:
    """One review as the body sees it: never its tone, its history, nor anything about
    who wrote it."""

    id: int
    marks: dict[str, int]
    overall: decimal.Decimal
    would_recommend: bool
    #: None: no public comment (marks only, or a comment taken off after a report)
    title: str | None
    text: str | None
    #: the first of the answer's month (never the day)
    month: dt.date
    course_title: str
    body_name: str
    siret: str
    city: str | None
    #: the first of the month the session ended
    session_month: dt.date
    is_read: bool
    is_new: bool
    reply_status: CommentStatus | None
    report_status: str | None

    @property
    def has_comment(self) -> bool:
        return self.text is not None


def _select(account: Account, since: dt.datetime | None) -> sa.Select[Any]:
    shown = comment_shown()
    return (sa.select(
        Answer.id, *(getattr(Answer, name) for name in DIMENSIONS), Answer.overall,
        Answer.would_recommend,
        # The text of a comment not shown never leaves the database.
        sa.case((shown, Answer.comment_title), else_=None).label("title"),
        sa.case((shown, Answer.comment_text), else_=None).label("text"),
        Answer.answered_on, Course.title.label("course_title"),
        TrainingBody.name.label("body_name"), TrainingBody.siret, Session.city,
        Session.end_date, _read_by(account).label("is_read"),
        _new_since(since).label("is_new"),
        Reply.status.label("reply_status"), Report.status.label("report_status"))
        .select_from(Answer)
        .join(Course, Course.id == Answer.course_id)
        .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
        .join(Session, Session.id == Answer.session_id)
        .outerjoin(Reply, Reply.answer_id == Answer.id)
        .outerjoin(Report, Report.answer_id == Answer.id))


def _review(row: sa.Row[Any]) -> Review:
    return Review(
        id=row.id, marks={name: getattr(row, name) for name in DIMENSIONS},
        overall=row.overall, would_recommend=row.would_recommend, title=row.title,
        text=row.text, month=public_month(row.answered_on), course_title=row.course_title,
        body_name=row.body_name, siret=row.siret, city=row.city,
        session_month=row.end_date.replace(day=1), is_read=bool(row.is_read),
        is_new=bool(row.is_new),
        reply_status=CommentStatus(row.reply_status) if row.reply_status else None,
        report_status=row.report_status)


@dataclass(frozen=True)
class ReviewPage:
    total: int
    page: int
    items: list[Review]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def reviews(account: Account, filters: Filters, since: dt.datetime | None,
            page: int = 1) -> ReviewPage:
    """Page ``page`` of the reviews ``account`` sees, newest first."""
    where = _filtered(account, filters, since)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(where))
    rows = db.session.execute(
        _select(account, since).where(where)
        .order_by(Answer.answered_on.desc(), Answer.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return ReviewPage(total=total or 0, page=page, items=[_review(row) for row in rows])


def review(account: Account, answer_id: int) -> Review | None:
    """One review ``account`` sees; None when it is not one (unknown, someone else's,
    awaiting moderation, rejected)."""
    row = db.session.execute(_select(account, last_visit_end(account)).where(
        Answer.id == answer_id, listed(account))).first()
    return _review(row) if row is not None else None


def unread(account: Account) -> int:
    """How many reviews ``account`` has not marked as read (for its home or its menu)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
        _filtered(account, Filters(read=False), None))) or 0


@dataclass(frozen=True)
class Unlisted:
    """What the body is told of the comments it does not read."""

    pending: int
    #: rejection reason → count
    rejected: dict[str, int]


def unlisted(account: Account) -> Unlisted:
    """Comments awaiting moderation, and rejected ones by reason (never their text)."""
    counted = sa.and_(Scope.of(account).where(Answer), Answer.excluded_reason.is_(None),
                      Answer.comment_public.is_(True))
    pending = 0
    if CommentStatus.pending not in shown_statuses():
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
            counted, Answer.comment_status == CommentStatus.pending)) or 0
    rejected = dict(db.session.execute(
        sa.select(Answer.rejection_reason, sa.func.count()).where(
            counted, Answer.comment_status == CommentStatus.rejected)
        .group_by(Answer.rejection_reason).order_by(Answer.rejection_reason)).all())
    return Unlisted(pending=pending, rejected={str(reason or "other"): count
                                               for reason, count in rejected.items()})


def courses(account: Account) -> list[sa.Row[tuple[int, str]]]:
    """The courses of the reviews ``account`` sees (the course filter's choices)."""
    return list(db.session.execute(
        sa.select(Course.id, Course.title).where(Course.id.in_(
            sa.select(Answer.course_id).where(listed(account))))
        .order_by(Course.title, Course.id)).all())


def session_months(account: Account) -> list[dt.date]:
    """The months sessions of the reviews ``account`` sees ended in, latest first."""
    ends = db.session.scalars(sa.select(Session.end_date).distinct().where(
        Session.id.in_(sa.select(Answer.session_id).where(listed(account)))))
    return sorted({end.replace(day=1) for end in ends}, reverse=True)


# --- Operations: visits and read marks ---------------------------------------------------

def visit(account: Account) -> dt.datetime | None:
    """Record that ``account`` opens its list now; the end of its previous visit (what
    "new" is counted from), None on its first."""
    now = clock.now()
    found = db.session.get(ReviewVisit, account.id, with_for_update=True)
    if found is None:
        # Two first requests at once: the second one's row is simply not inserted.
        db.session.execute(insert_skipping_conflicts(ReviewVisit.__table__).values(
            account_id=account.id, seen_dt=now, since_dt=None))
        return None
    if now - found.seen_dt > VISIT_GAP:
        found.since_dt = found.seen_dt
    found.seen_dt = max(found.seen_dt, now)
    return found.since_dt


def last_visit_end(account: Account) -> dt.datetime | None:
    """What "new" is counted from, without recording a visit."""
    return db.session.scalar(sa.select(ReviewVisit.since_dt).where(
        ReviewVisit.account_id == account.id))


def mark_read(account: Account, answer_ids: list[int]) -> int:
    """Mark those of ``answer_ids`` that ``account`` sees as read (audited); how many
    were not read yet."""
    ids = list(db.session.scalars(sa.select(Answer.id).where(
        Answer.id.in_(answer_ids), listed(account))))
    if not ids:
        return 0
    now = clock.now()
    marked = db.session.execute(
        insert_skipping_conflicts(ReviewRead.__table__)
        .values([{"account_id": account.id, "answer_id": answer_id, "read_dt": now}
                 for answer_id in ids])
        .returning(ReviewRead.answer_id)).scalars().all()
    if marked:
        record("review.read", object_type="answer",
               object_id=marked[0] if len(marked) == 1 else None,
               changes={"answers": sorted(marked)}, actor=account)
    return len(marked)


def mark_unread(account: Account, answer_id: int) -> bool:
    """Take ``account``'s read mark off a review (audited); whether there was one."""
    removed = db.session.execute(sa.delete(ReviewRead).where(
        ReviewRead.account_id == account.id, ReviewRead.answer_id == answer_id)).rowcount
    if removed:
        record("review.unread", object_type="answer", object_id=answer_id, actor=account)
    return bool(removed)
