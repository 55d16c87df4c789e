"""Read-only queries behind the public pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from avis.catalog.geo import DEPARTEMENT_NAMES
from avis.models import Action, Enrolment, Session


@dataclass(frozen=True)
class DepartementFigures:
    code: str
    name: str
    training_bodies: int
    sessions: int
    trainees: int


def figures_by_departement(db_session: DbSession) -> list[DepartementFigures]:
    """Training bodies, sessions and enrolled trainees per département of the place of training."""
    enrolled = (
        sa.select(Enrolment.session_id, sa.func.count().label("n"))
        .group_by(Enrolment.session_id)
        .subquery()
    )
    rows = db_session.execute(
        sa.select(
            Session.departement,
            sa.func.count(sa.distinct(Action.training_body_id)),
            sa.func.count(Session.id),
            sa.func.coalesce(sa.func.sum(enrolled.c.n), 0),
        )
        .join(Action, Action.id == Session.action_id)
        .outerjoin(enrolled, enrolled.c.session_id == Session.id)
        .group_by(Session.departement)
        .order_by(Session.departement)
    )
    return [
        DepartementFigures(code, DEPARTEMENT_NAMES.get(code, code), bodies, sessions, int(trainees))
        for code, bodies, sessions, trainees in rows
    ]
