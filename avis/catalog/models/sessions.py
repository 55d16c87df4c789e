from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from avis import clock
from avis.catalog.models.courses import Action
from avis.db import Base, CodeList


class Session(Base):
    """A cohort of an action: dates and place. Trainees are enrolled in sessions.

    Not to be confused with a database session or a browser session.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        # A région's sessions with their actions from the index alone: what the back
        # office's scope of region staff and moderators reads on every page.
        sa.Index("ix_sessions_region_code_action_id", "region_code", "action_id"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the action this session belongs to
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("actions.id"), index=True)
    #: the source's session id (``dn_session_id``), unique across imports
    external_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the catalogue's session number (``session.numero`` in ANOTEA's API)
    numero: Mapped[str] = mapped_column(sa.String(64))
    #: first day of the session
    start_date: Mapped[dt.date]
    #: last day of the session; invitations are timed from it
    end_date: Mapped[dt.date] = mapped_column(index=True)
    #: 5-digit postcode of the place of training
    postcode: Mapped[str] = mapped_column(sa.String(5), index=True)
    #: INSEE code of the commune of the place of training, when the source gives it
    insee_code: Mapped[str | None] = mapped_column(sa.String(5))
    #: commune of the place of training
    city: Mapped[str] = mapped_column(sa.String(200))
    #: département code of the place ("44", "2A", "974"), derived from the postcode
    departement: Mapped[str] = mapped_column(sa.String(3), index=True)
    #: INSEE region code of the place ("52" Pays de la Loire), derived from the département
    region_code: Mapped[str] = mapped_column(sa.String(2), index=True)
    #: funder codes (2 Conseil régional, 4 France Travail…), see ``catalog.funders``
    funders: Mapped[list[int]] = mapped_column(CodeList, default=list)
    #: funding scheme code (dispositif: AIF, CR, PRF…), as the source spells it
    funding_scheme: Mapped[str | None] = mapped_column(sa.String(32))
    #: when the session first appeared in an import
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when an import last changed the session
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    action: Mapped[Action] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Session {self.external_id} {self.start_date}–{self.end_date}>"
