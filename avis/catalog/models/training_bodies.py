from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base


class TrainingBody(Base):
    """An organisme de formation, identified by the SIRET of its establishment."""

    __tablename__ = "training_bodies"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: 14-digit SIRET of the establishment (check digit verified on import)
    siret: Mapped[str] = mapped_column(sa.String(14), unique=True)
    #: 9-digit SIREN of the company, shared by all its establishments
    siren: Mapped[str] = mapped_column(sa.String(9), index=True)
    #: raison sociale, as the latest import gave it
    name: Mapped[str] = mapped_column(sa.String(250))
    #: address for account activation and review notifications (not in trainee files)
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: when the body first appeared in an import
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when an import last changed the body
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    def __repr__(self) -> str:
        return f"<TrainingBody {self.siret} {self.name!r}>"
