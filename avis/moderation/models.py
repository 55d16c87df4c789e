"""The history of moderation (every decision on a comment, a reply or a report, with the
text a redaction replaced) and the reports training bodies make about reviews."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum


class Decision(enum.StrEnum):
    #: shown on the public pages, API, widget and open data
    publish = "publish"
    #: never shown (marks still count)
    reject = "reject"
    #: the public title or text edited by the moderator (the trainee's kept here)
    redact = "redact"
    #: a published comment taken off again
    withdraw = "withdraw"
    #: the last decision of the day taken back: the comment waits again
    undo = "undo"
    #: the whole answer leaves the scores and every listing
    exclude = "exclude"
    #: an excluded answer counts again
    include = "include"
    #: a report examined: the review stays as it is
    keep = "keep"
    #: a report examined: the review's comment is taken off
    remove = "remove"


class Subject(enum.StrEnum):
    """What a decision is about."""

    comment = "comment"
    reply = "reply"
    report = "report"


class ReportStatus(enum.StrEnum):
    #: awaiting a moderator; the review stays online meanwhile
    open = "open"
    #: examined, the review stays
    kept = "kept"
    #: examined, the review's comment was taken off
    removed = "removed"


class ReportReason(enum.StrEnum):
    """Why a training body reports a review."""

    #: insult, abuse, defamation
    abuse = "abuse"
    #: someone's personal data in the comment
    personal_data = "personal_data"
    #: not about this body or this course
    wrong_body = "wrong_body"
    #: facts the body says are false
    false_facts = "false_facts"
    other = "other"


class ModerationEvent(Base):
    """One decision on an answer's comment. Only moderators and admins read these: a
    redaction keeps here the words that were taken off the public text."""

    __tablename__ = "moderation_events"

    #: surrogate key (also the order of decisions)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the answer decided on
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"),
                                           index=True)
    #: what was decided
    decision: Mapped[Decision] = mapped_column(string_enum(Decision, 16))
    #: about the comment, the body's reply or a report on the review
    subject: Mapped[Subject] = mapped_column(string_enum(Subject, 16), default=Subject.comment,
                                             server_default=Subject.comment)
    #: positive, neutral or negative (publish)
    qualification: Mapped[str | None] = mapped_column(sa.String(16))
    #: the reason code (reject, withdraw, exclude)
    reason: Mapped[str | None] = mapped_column(sa.String(16))
    #: the comment status before the decision
    previous_status: Mapped[str | None] = mapped_column(sa.String(16))
    #: redact: the title before the edit (None when there was none)
    previous_title: Mapped[str | None] = mapped_column(sa.String(80))
    #: redact: the text before the edit
    previous_text: Mapped[str | None] = mapped_column(sa.Text)
    #: the moderator (not a foreign key: the history outlives accounts)
    actor_id: Mapped[int | None]
    #: when (indexed: the statistics read a year of decisions)
    occurred_dt: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)


class Report(Base):
    """A training body's report on a review. The review stays online, marks and comment,
    while a moderator examines it; one report per review and body."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("answer_id", "training_body_id"),
        sa.Index("ix_reports_open", "created_dt", postgresql_where=sa.text("status = 'open'"),
                 sqlite_where=sa.text("status = 'open'")),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the review reported
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"),
                                           index=True)
    #: the body reporting (the review's body)
    training_body_id: Mapped[int] = mapped_column(sa.ForeignKey("training_bodies.id"),
                                                  index=True)
    #: why
    reason: Mapped[ReportReason] = mapped_column(string_enum(ReportReason, 16))
    #: the body's explanation, plain text
    text: Mapped[str] = mapped_column(sa.String(1000))
    #: the account that reported (not a foreign key: the report outlives the account)
    author_id: Mapped[int | None]
    #: where it stands
    status: Mapped[ReportStatus] = mapped_column(string_enum(ReportStatus, 16),
                                                 default=ReportStatus.open)
    #: when it was made
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: the moderator's message to the body, with the decision
    message: Mapped[str | None] = mapped_column(sa.String(1000))
    #: when a moderator decided
    decided_dt: Mapped[dt.datetime | None]
    #: who decided (not a foreign key)
    decided_by_id: Mapped[int | None]
