"""What body accounts are told by email: the topics each has turned off, the one-click
unsubscribe links it was sent, and what each digest and reply-decision email is about.

An email row itself is an ``AccountMessage`` (the account outbox); the tables here hang
off it, so that what an email tells is read when it leaves and a failed or cancelled
digest moves nothing.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum
from avis.surveys.models.answers import CommentStatus


class Topic(enum.StrEnum):
    """What a body account may choose to be emailed about."""

    #: "N new reviews", at most every ``BODY_DIGEST_DAYS`` days
    digest = "digest"
    #: a moderator published or rejected one of its replies
    reply_decisions = "reply_decisions"
    #: a moderator examined one of its reports
    report_decisions = "report_decisions"


class NotificationOptOut(Base):
    """A body account does not want the emails of one topic (absent: it does)."""

    __tablename__ = "body_notification_opt_outs"

    #: the body's account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    #: the emails it turned off
    topic: Mapped[Topic] = mapped_column(string_enum(Topic, 24), primary_key=True)
    #: since when
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)


class UnsubscribeToken(Base):
    """The token of a one-click unsubscribe link (RFC 8058), one per email sent; only its
    hash is kept. It turns one topic off for one account, nothing else: it outlives its
    use (a second click says it is already off) and expires after ``TOKEN_LIFETIME``."""

    __tablename__ = "body_unsubscribe_tokens"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: whose emails
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: which emails the link turns off
    topic: Mapped[Topic] = mapped_column(string_enum(Topic, 24))
    #: when the email carrying it was sent
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: opens nothing from then on
    expires_dt: Mapped[dt.datetime] = mapped_column(index=True)


class DigestMail(Base):
    """A "new reviews" email and the period it tells about. The period ends when the
    email leaves; the next one starts where the last *sent* one ended."""

    __tablename__ = "body_digest_mails"

    #: the email (kind ``body_digest``)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account_messages.id", ondelete="CASCADE"), primary_key=True)
    #: the body's account (also the email's: found without the outbox)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: end of the period told: comments published up to then count; None until it leaves
    until_dt: Mapped[dt.datetime | None]
    #: highest ``answers.id`` when it left: answers without a comment carry only their
    #: day, so the next period starts after this id
    until_answer_id: Mapped[int | None]
    #: new reviews it told about
    reviews: Mapped[int | None]


class ReplyDecisionMail(Base):
    """An email telling a body a moderator's decision on its reply."""

    __tablename__ = "body_reply_decision_mails"

    #: the email (kind ``reply_decided``)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account_messages.id", ondelete="CASCADE"), primary_key=True)
    #: the reply decided on
    reply_id: Mapped[int] = mapped_column(sa.ForeignKey("replies.id", ondelete="CASCADE"),
                                          index=True)
    #: the decision told (published or rejected): if the reply is no longer so when the
    #: email leaves (an undo), it is not sent
    status: Mapped[CommentStatus] = mapped_column(string_enum(CommentStatus, 16))
