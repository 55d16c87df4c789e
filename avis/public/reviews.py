"""Published comments, as the public pages show them.

A comment is shown when its author agreed to publication and moderation published it
(or, before moderation exists in an installation, when the operator chose
``PUBLISH_COMMENTS_UNMODERATED``); rejected comments never are, nor the comments of a
session with fewer than ``MIN_SESSION_SIZE`` trainees (its answers only count in
wider figures). Public dates are
months: the day an answer was given, next to a course's dates, could point to a person.

Comments are archived ``REVIEW_ARCHIVE_MONTHS`` months after the answer (ANOTEA kept them
24 months): a rule of the queries, not a change of status, so that nothing is lost, a
longer setting brings them back, and the date alone explains why one is not shown. The
pages, API v1, the widget and the open-data files all read ``is_shown``; the scores are
computed over the same window (``in_review_window``, ``avis.scores.aggregate``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.catalog.models.courses import Course
from avis.db import db
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus, Reply

#: Comments per page.
PAGE_SIZE = 10


def public_month(day: dt.date) -> dt.date:
    """The first of the month of ``day``: what the public may know of a date."""
    return day.replace(day=1)


def shown_statuses() -> list[CommentStatus]:
    if current_app.config["PUBLISH_COMMENTS_UNMODERATED"]:
        return [CommentStatus.published, CommentStatus.pending]
    return [CommentStatus.published]


def review_window_start(today: dt.date | None = None) -> dt.date:
    """The first day of answer still public and counted in the scores: the same day
    ``REVIEW_ARCHIVE_MONTHS`` months before ``today`` (an answer of that day stays)."""
    from avis.surveys.jobs import add_months

    return add_months(today or clock.today(), -current_app.config["REVIEW_ARCHIVE_MONTHS"])


def in_review_window() -> Any:
    """SQL condition: the answer is not archived yet."""
    return Answer.answered_on >= review_window_start()


def is_public_session(session_id: Any) -> Any:
    """SQL condition: the session ``session_id`` (a column) is large enough for its
    answers to be listed one by one (its score row says so; a session scored for the
    first time at the next hourly run waits until then)."""
    return sa.exists().where(Score.scope == ScoreScope.session,
                             Score.key == sa.cast(session_id, sa.String),
                             Score.is_public.is_(True))


def from_public_session() -> Any:
    """SQL condition: the answer may be listed one by one: its session is large enough
    (``is_public_session``), and moderation has not excluded it (fraud, wrong body)."""
    return sa.and_(Answer.excluded_reason.is_(None), is_public_session(Answer.session_id))


def is_shown_if_public(window: Any = None) -> Any:
    """``is_shown`` for an answer already known to be ``from_public_session``: the rest of
    the condition, without the session's lookup. ``window``: the first day not archived
    (``review_window_start``; a parameter, for a statement built once)."""
    return sa.and_(Answer.comment_public.is_(True), Answer.comment_text.is_not(None),
                   Answer.comment_status.in_(shown_statuses()),
                   in_review_window() if window is None else Answer.answered_on >= window)


def is_shown() -> Any:
    """SQL condition: the answer's comment may be shown: published with the trainee's
    consent, from a session large enough that nobody can be recognised, not archived."""
    return sa.and_(is_shown_if_public(), from_public_session())


@dataclass(frozen=True)
class PublicComment:
    title: str | None
    text: str
    overall: decimal.Decimal
    #: the first of the answer's month (never the day)
    month: dt.date
    course_title: str
    #: the body's reply, once published
    reply: str | None


@dataclass(frozen=True)
class CommentPage:
    total: int
    page: int
    items: list[PublicComment]

    @property
    def pages(self) -> int:
        return math.ceil(self.total / PAGE_SIZE)


def comments(about: Any, page: int = 1) -> CommentPage:
    """Page ``page`` of the comments shown of the answers matching ``about`` (e.g.
    ``Answer.training_body_id == 3``), newest month first."""
    where = sa.and_(about, is_shown())
    # Counted per session, each session then looked up once in the scores, not once per
    # comment (a large body has hundreds of comments in a few dozen sessions).
    per_session = (sa.select(Answer.session_id, sa.func.count().label("n"))
                   .where(about, is_shown_if_public(), Answer.excluded_reason.is_(None))
                   .group_by(Answer.session_id).subquery())
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(per_session.c.n), 0))
                              .where(is_public_session(per_session.c.session_id)))
    reply_shown = sa.and_(Reply.answer_id == Answer.id,
                          Reply.status.in_(shown_statuses()))
    rows = db.session.execute(
        sa.select(Answer.comment_title, Answer.comment_text, Answer.overall,
                  Answer.answered_on, Course.title, Reply.text)
        .join(Course, Course.id == Answer.course_id)
        .outerjoin(Reply, reply_shown)
        .where(where)
        .order_by(Answer.answered_on.desc(), Answer.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    items = [PublicComment(title=title, text=text, overall=overall,
                           month=public_month(answered_on), course_title=course_title,
                           reply=reply)
             for title, text, overall, answered_on, course_title, reply in rows]
    return CommentPage(total=int(total or 0), page=page, items=items)
