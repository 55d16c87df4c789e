from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from avis import clock
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import Base, CodeList


class Course(Base):
    """A formation of the catalogue, delivered through one or more actions."""

    __tablename__ = "courses"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the catalogue's course number (``formation.numero`` in ANOTEA's API)
    numero: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: course title (intitulé)
    title: Mapped[str] = mapped_column(sa.String(500))
    #: up to five 5-digit formacodes, the main one first
    formacodes: Mapped[list[str]] = mapped_column(CodeList, default=list)
    #: up to five Certif Info numbers of the certifications the course leads to
    certifinfos: Mapped[list[str]] = mapped_column(CodeList, default=list)
    #: when the course first appeared in an import
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when an import last changed the course
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    def __repr__(self) -> str:
        return f"<Course {self.numero} {self.title!r}>"


class Action(Base):
    """One training body's delivery of a course; its sessions are the cohorts."""

    __tablename__ = "actions"
    __table_args__ = (sa.UniqueConstraint("course_id", "numero"),)

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the course delivered
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    #: the catalogue's action number, unique within the course
    numero: Mapped[str] = mapped_column(sa.String(64))
    #: the body that teaches (organisme formateur): the one that is rated
    training_body_id: Mapped[int] = mapped_column(sa.ForeignKey("training_bodies.id"), index=True)
    #: the body that holds the contract (organisme responsable); often the same
    responsible_body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_bodies.id"), index=True
    )
    #: when the action first appeared in an import
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when an import last changed the action
    updated_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)

    course: Mapped[Course] = relationship(lazy="raise")
    training_body: Mapped[TrainingBody] = relationship(
        foreign_keys=[training_body_id], lazy="raise"
    )
    responsible_body: Mapped[TrainingBody] = relationship(
        foreign_keys=[responsible_body_id], lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Action {self.numero} of course {self.course_id}>"
