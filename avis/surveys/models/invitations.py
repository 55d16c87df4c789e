from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from avis import clock
from avis.catalog.models.trainees import Enrolment
from avis.db import Base, string_enum


class InvitationKind(enum.StrEnum):
    #: the questionnaire about the course, sent just after the session ends
    end_of_training = "end_of_training"
    #: the 6-month questionnaire about what the trainee became
    follow_up = "follow_up"


class InvitationStatus(enum.StrEnum):
    #: created; its first email is in the outbox
    pending = "pending"
    #: the first email was handed to the mail provider
    sent = "sent"
    #: the provider says the recipient's server accepted it
    delivered = "delivered"
    #: the provider saw the email opened
    opened = "opened"
    #: the trainee answered the questionnaire
    answered = "answered"
    #: the address does not receive mail (bounce, dropped)
    bounced = "bounced"
    #: the trainee marked an email as spam
    complained = "complained"
    #: the trainee asked for no more email
    unsubscribed = "unsubscribed"
    #: the link's lifetime ended without an answer
    expired = "expired"
    #: the first email could not be sent, after every attempt
    failed = "failed"


S = InvitationStatus
#: An invitation whose trainee may still answer and may still be reminded.
OPEN_STATUSES = frozenset({S.pending, S.sent, S.delivered, S.opened})
#: Where each status may go. Provider events arrive out of order (an "open" may come
#: before "delivered", a "delivered" after a send recorded as "outcome unknown"), so the
#: early statuses may skip ahead; the final ones never change, except that someone who
#: unsubscribed from email may still answer with the link they have.
TRANSITIONS: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    S.pending: frozenset({S.sent, S.delivered, S.opened, S.answered, S.bounced, S.complained,
                          S.unsubscribed, S.expired, S.failed}),
    S.sent: frozenset({S.delivered, S.opened, S.answered, S.bounced, S.complained,
                       S.unsubscribed, S.expired}),
    S.delivered: frozenset({S.opened, S.answered, S.bounced, S.complained, S.unsubscribed,
                            S.expired}),
    S.opened: frozenset({S.answered, S.complained, S.unsubscribed, S.expired}),
    S.unsubscribed: frozenset({S.answered}),
    S.answered: frozenset(),
    S.bounced: frozenset(),
    S.complained: frozenset(),
    S.expired: frozenset(),
    S.failed: frozenset(),
}


class InvalidTransition(ValueError):
    """An invitation was asked to move to a status it cannot reach from where it is."""


class Invitation(Base):
    """One questionnaire proposed to one enrolment: at most one per kind.

    The survey link's token is not stored here: every email carries its own token,
    minted when the email is sent, and only its hash is kept (``InvitationToken``).
    """

    __tablename__ = "invitations"
    __table_args__ = (
        sa.UniqueConstraint("enrolment_id", "kind"),
        sa.Index("ix_invitations_status_first_sent_dt", "status", "first_sent_dt"),
        # What the scores count of a session's invitations (delivered or not, and in the
        # window by the day answered or first sent), read from the index alone:
        # ``scores.aggregate.refresh`` counts them again for thousands of sessions, whose
        # invitations are scattered over the table.
        sa.Index("ix_invitations_scores_delivered", "enrolment_id", "kind", "status",
                 "first_sent_dt", "answered_dt"),
        # The invitations changed since a time, and their enrolment, from the index alone:
        # ``scores.aggregate.refresh`` looks for them at every run.
        sa.Index("ix_invitations_status_dt_kind_enrolment_id", "status_dt", "kind",
                 "enrolment_id"),
        # The monitoring counts' refresh finds the invitations whose funnel moved since
        # its previous run: most moves change the status (``status_dt``), but a first
        # visit of the link sets ``clicked_dt`` alone, and a provider's late event may set
        # ``first_sent_dt``, ``delivered_dt`` or ``opened_dt`` of an invitation whose
        # status cannot move any more.
        *(sa.Index(f"ix_invitations_{column}", column)
          for column in ("clicked_dt", "delivered_dt", "opened_dt", "first_sent_dt")),
    )

    #: surrogate key; also the opaque id given to the mail provider
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the enrolment (trainee × session) invited
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="CASCADE"))
    #: which questionnaire
    kind: Mapped[InvitationKind] = mapped_column(string_enum(InvitationKind, 20))
    #: where the invitation is; changed only through ``move_to``
    status: Mapped[InvitationStatus] = mapped_column(string_enum(InvitationStatus, 16),
                                                     default=InvitationStatus.pending)
    #: when the invitation was created (its first email queued)
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: after this, the links stop working and no reminder is sent
    expires_dt: Mapped[dt.datetime] = mapped_column(index=True)
    #: when the first email was handed to the provider
    first_sent_dt: Mapped[dt.datetime | None]
    #: when the latest email (first or reminder) was handed to the provider
    last_sent_dt: Mapped[dt.datetime | None]
    #: reminders queued so far; reminder n is due at the n-th configured delay
    reminders_queued: Mapped[int] = mapped_column(default=0)
    #: when the provider reported the first email delivered
    delivered_dt: Mapped[dt.datetime | None]
    #: when the provider first saw an email opened
    opened_dt: Mapped[dt.datetime | None]
    #: when the trainee first opened the questionnaire
    clicked_dt: Mapped[dt.datetime | None]
    #: when the trainee answered
    answered_dt: Mapped[dt.datetime | None]
    #: when the status last changed
    status_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    enrolment: Mapped[Enrolment] = relationship(lazy="raise")

    def can_move_to(self, status: InvitationStatus) -> bool:
        return status in TRANSITIONS[self.status]

    def move_to(self, status: InvitationStatus, at: dt.datetime | None = None) -> None:
        """Change status, or raise ``InvalidTransition`` if the move makes no sense."""
        if not self.can_move_to(status):
            raise InvalidTransition(f"invitation {self.id}: {self.status} → {status}")
        self.status = status
        self.status_dt = at or clock.now()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.kind} {self.status}>"


class InvitationToken(Base):
    """The hash of a token sent in one email; the token itself is never stored."""

    __tablename__ = "invitation_tokens"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the invitation the link opens
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    #: when the token was minted (when its email was sent)
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    invitation: Mapped[Invitation] = relationship(lazy="raise")
