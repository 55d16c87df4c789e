from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from avis import clock
from avis.db import Base, string_enum
from avis.surveys.models.invitations import Invitation


class MessageStatus(enum.StrEnum):
    #: waiting for a sender (``next_attempt_dt`` says from when)
    queued = "queued"
    #: claimed by a sender until ``lease_expires_dt``; back to the queue if it dies
    sending = "sending"
    #: handed to the provider (SMTP server, SendGrid 202)
    sent = "sent"
    #: the provider did not answer in time: it may or may not have the message. Held for
    #: a provider event to tell; sent again after ``next_attempt_dt`` if none comes.
    unknown = "unknown"
    #: every attempt failed, or the provider refused it for good
    failed = "failed"
    #: not sent: the address is suppressed or the invitation closed before sending
    cancelled = "cancelled"


#: The statuses of messages a sender may claim (when due), as the partial index says.
DUE_STATUSES = "status IN ('queued', 'sending', 'unknown')"


class OutboxMessage(Base):
    """An email to send, written in the same transaction as the change that causes it.

    Holds no address and no content: both are read when the message is sent, so that an
    erasure between queueing and sending leaves nothing behind.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # One row per email of an invitation: a job run twice cannot queue it twice.
        sa.UniqueConstraint("invitation_id", "sequence"),
        # The messages a sender may claim, in the claim's order (``outbox.claim``): read
        # from the first due id on, without sorting every due message. Sent, failed and
        # cancelled messages (nearly all rows, in time) leave it, so marking one sent
        # writes no entry here.
        sa.Index("ix_outbox_messages_due", "id", postgresql_where=sa.text(DUE_STATUSES),
                 sqlite_where=sa.text(DUE_STATUSES)),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the invitation this email is for
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"))
    #: 0 for the first email, n for the n-th reminder
    sequence: Mapped[int] = mapped_column(sa.SmallInteger)
    #: email template: invitation, reminder, follow_up, follow_up_reminder
    template: Mapped[str] = mapped_column(sa.String(40))
    #: where the message is
    status: Mapped[MessageStatus] = mapped_column(string_enum(MessageStatus, 16),
                                                  default=MessageStatus.queued)
    #: sending attempts started (a claim counts as one)
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    #: not to be claimed before this (back-off after a failure)
    next_attempt_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: while ``sending``: when the claim lapses and the message may be claimed again
    lease_expires_dt: Mapped[dt.datetime | None]
    #: when the message was queued
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the provider took it
    sent_dt: Mapped[dt.datetime | None]
    #: the provider's id for the request that carried it (SendGrid X-Message-ID)
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(100))
    #: the latest failure, without personal data ("HTTP 503", "timeout")
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    invitation: Mapped[Invitation] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} {self.status}>"


class SuppressionReason(enum.StrEnum):
    bounce = "bounce"
    complaint = "complaint"
    unsubscribe = "unsubscribe"


class Suppression(Base):
    """An address that gets no more email. Kept as a hash, so it outlives the
    trainee's erasure and still stops a later import from writing to them."""

    __tablename__ = "suppressions"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the lowercased address (see ``email_digest``)
    email_digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: why the address was suppressed first
    reason: Mapped[SuppressionReason] = mapped_column(string_enum(SuppressionReason, 16))
    #: when
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ProviderEvent(Base):
    """A mail-provider event already applied, so that a replayed webhook changes nothing."""

    __tablename__ = "provider_events"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the provider's unique event id (SendGrid ``sg_event_id``)
    event_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: event type: delivered, open, bounce…
    event_type: Mapped[str] = mapped_column(sa.String(32))
    #: the invitation it was about, if we knew it
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="SET NULL"), index=True)
    #: when the provider says it happened
    occurred_dt: Mapped[dt.datetime | None]
    #: when we received it
    received_dt: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
