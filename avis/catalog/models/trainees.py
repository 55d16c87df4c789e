from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from avis import clock
from avis.catalog.models.sessions import Session
from avis.db import Base


class Trainee(Base):
    """A former trainee: the personal data avis keeps, and erases on schedule.

    One row per email address: the same person enrolled in two sessions is one
    trainee with two enrolments, so an unsubscribe or an erasure covers both.
    """

    __tablename__ = "trainees"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: lowercased email address, the identity of the trainee across imports; None once
    #: erased (the row stays so that every count and rate stays the same)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: family name (nom), used only to greet the trainee
    last_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: given name (prénom), used only to greet the trainee
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: first phone number given by the source
    phone_1: Mapped[str | None] = mapped_column(sa.String(32))
    #: second phone number given by the source
    phone_2: Mapped[str | None] = mapped_column(sa.String(32))
    #: when the trainee first appeared in an import
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when an import last changed the trainee's data
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the trainee's identity was erased (on request, at the end of the retention
    #: period, or by themselves); None while it is held
    erased_dt: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Trainee {self.id}>"  # never the email: reprs end up in logs


class Enrolment(Base):
    """A trainee's place in a session: what invitations are created for."""

    __tablename__ = "enrolments"
    __table_args__ = (
        sa.UniqueConstraint("trainee_id", "session_id"),
        # An enrolment's session from the index alone: ``scores.aggregate.refresh`` looks
        # up the session of every invitation changed since its previous run.
        sa.Index("ix_enrolments_id_session_id", "id", "session_id"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the trainee
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("trainees.id", ondelete="CASCADE"))
    #: the session followed
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    #: campaign of the import that first brought this enrolment (kept on later imports)
    campaign: Mapped[str] = mapped_column(sa.String(100))
    #: the import run that first brought this enrolment. Not a foreign key: import runs
    #: are a permanent record, and the check would cost every row of a bulk import.
    import_run_id: Mapped[int | None]
    #: when the enrolment was first imported (indexed: ``scores.aggregate.refresh`` looks
    #: for the enrolments created since its previous run)
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    #: when an import last changed the trainee's data for this enrolment
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    trainee: Mapped[Trainee] = relationship(lazy="raise")
    session: Mapped[Session] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Enrolment trainee={self.trainee_id} session={self.session_id}>"
