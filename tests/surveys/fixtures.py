"""Factories for enrolments and invitations, committed so other processes see them."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys import tokens
from avis.surveys.models.invitations import (
    Invitation,
    InvitationKind,
    InvitationStatus,
    InvitationToken,
)
from tests.catalog.fixtures import make_siret

_counter = itertools.count(1)


def create_session(end_date: dt.date, *, start_date: dt.date | None = None,
                   course_title: str = "Aide à domicile",
                   body_name: str = "Institut de formation de l'Ouest") -> Session:
    """A session of a new course delivered by a new training body (flushed)."""
    n = next(_counter)
    body = TrainingBody(siret=make_siret(5000 + n), siren=make_siret(5000 + n)[:9],
                        name=body_name)
    course = Course(numero=f"F-{n}", title=course_title, formacodes=[], certifinfos=[])
    db.session.add_all([body, course])
    db.session.flush()
    action = Action(course_id=course.id, numero=f"A-{n}", training_body_id=body.id,
                    responsible_body_id=body.id)
    db.session.add(action)
    db.session.flush()
    session = Session(action_id=action.id, external_id=f"S-{n}", numero=f"N-{n}",
                      start_date=start_date or end_date - dt.timedelta(days=90),
                      end_date=end_date, postcode="44000", city="Nantes",
                      departement="44", region_code="52", funders=[2])
    db.session.add(session)
    db.session.flush()
    return session


def enrol(session: Session, email: str | None = None, *, first_name: str = "Léa",
          last_name: str = "Martin") -> Enrolment:
    """Enrol a trainee (new unless the address is known) in ``session`` (flushed)."""
    email = email or f"stagiaire{next(_counter)}@example.org"
    trainee = db.session.query(Trainee).filter_by(email=email).one_or_none()
    if trainee is None:
        trainee = Trainee(email=email, first_name=first_name, last_name=last_name)
        db.session.add(trainee)
        db.session.flush()
    enrolment = Enrolment(trainee_id=trainee.id, session_id=session.id, campaign="test")
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def create_invitation(enrolment: Enrolment, *,
                      kind: InvitationKind = InvitationKind.end_of_training,
                      status: InvitationStatus = InvitationStatus.sent,
                      ttl: dt.timedelta = dt.timedelta(days=90)) -> tuple[Invitation, str]:
    """An invitation and a working token for it (flushed)."""
    now = clock.now()
    invitation = Invitation(enrolment_id=enrolment.id, kind=kind, status=status,
                            created_dt=now, expires_dt=now + ttl, status_dt=now,
                            first_sent_dt=None if status == InvitationStatus.pending else now)
    db.session.add(invitation)
    db.session.flush()
    token = tokens.mint()
    db.session.add(InvitationToken(invitation_id=invitation.id, digest=tokens.digest(token)))
    db.session.flush()
    return invitation, token


@pytest.fixture
def invited(app_context: None) -> Callable[..., tuple[Invitation, str]]:
    """``invited(email=…, kind=…, status=…)``: a committed invitation and its token."""

    def build(email: str | None = None, **options: object) -> tuple[Invitation, str]:
        session = create_session(clock.today() - dt.timedelta(days=2))
        invitation, token = create_invitation(enrol(session, email), **options)  # type: ignore[arg-type]
        db.session.commit()
        return invitation, token

    return build


def seed_enrolments(count: int, end_date: dt.date, *, sessions: int = 20,
                    email_domain: str = "example.org") -> None:
    """``count`` trainees spread over ``sessions`` sessions ended on ``end_date``,
    written set-wise (tens of thousands in seconds) and committed."""
    import sqlalchemy as sa

    first = create_session(end_date)
    action_id = first.action_id
    session_ids = [first.id]
    for n in range(1, sessions):
        session = Session(action_id=action_id, external_id=f"S-{first.id}-{n}",
                          numero=f"{n}", start_date=first.start_date, end_date=end_date,
                          postcode="44000", city="Nantes", departement="44",
                          region_code="52", funders=[2])
        db.session.add(session)
        db.session.flush()
        session_ids.append(session.id)
    start = next(_counter) * 10_000_000
    now = clock.now()
    for offset in range(0, count, 5000):
        numbers = range(start + offset, start + min(offset + 5000, count))
        db.session.execute(sa.insert(Trainee), [
            {"email": f"t{n}@{email_domain}", "first_name": "Camille", "last_name": "Durand",
             "created_dt": now, "updated_dt": now} for n in numbers])
        ids = dict(db.session.execute(
            sa.select(Trainee.email, Trainee.id)
            .where(Trainee.email.in_([f"t{n}@{email_domain}" for n in numbers]))).all())
        db.session.execute(sa.insert(Enrolment), [
            {"trainee_id": ids[f"t{n}@{email_domain}"],
             "session_id": session_ids[n % len(session_ids)], "campaign": "test",
             "created_dt": now, "updated_dt": now} for n in numbers])
    db.session.commit()
