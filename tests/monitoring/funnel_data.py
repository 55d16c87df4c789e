"""Random enrolments, invitations and answers for the funnel's tests, and what the funnel
must show, computed with pandas from the raw rows (independently of the SQL)."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from typing import Any

import pandas as pd
import sqlalchemy as sa

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring.models.funnel import (
    FunnelBodyCount,
    FunnelCount,
    FunnelCourseCount,
    FunnelMonthCount,
)
from avis.surveys.models.answers import (
    DIMENSIONS,
    Answer,
    ExclusionReason,
    FollowUpAnswer,
    Situation,
)
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus
from tests.catalog.fixtures import make_siret

S = InvitationStatus
STEPS = ("enrolled", "invited", "sent", "delivered", "opened", "clicked", "answered")
OUTCOMES = ("bounced", "complained", "unsubscribed", "expired", "failed")
SUMS = ("answers", "marks_total", "satisfied", "recommended", "follow_ups", "employed")
COUNTS = (*STEPS, *OUTCOMES, *SUMS)
KEY = ["session_id", "campaign", "kind", "training_body_id", "course_id"]
PLACE = ["region_code", "departement", "end_month", "funders", "funding_scheme"]

#: (city, postcode, département, région)
PLACES = [("Nantes", "44000", "44", "52"), ("Angers", "49000", "49", "52"),
          ("Laval", "53000", "53", "52"), ("Paris", "75011", "75", "11"),
          ("Créteil", "94000", "94", "11")]
FUNDERS = [[2], [4], [2, 4], [10], [4, 2, 10], []]
SCHEMES = ["AIF", "PRF", None]
CAMPAIGNS = ["2026-printemps", "2026-automne"]

_numbers = iter(range(10_000, 10**9))


class World:
    """Bodies, courses and sessions over 12 months, filled at random."""

    def __init__(self, rng: random.Random, *, bodies: int = 6, sessions: int = 24,
                 names: list[str] | None = None) -> None:
        self.rng = rng
        self.bodies: list[TrainingBody] = []
        for i in range(bodies):
            n = next(_numbers)
            siret = make_siret(8_000_000 + n)
            name = names[i] if names and i < len(names) else f"Organisme {n}"
            self.bodies.append(TrainingBody(siret=siret, siren=siret[:9], name=name))
        self.courses = [Course(numero=f"MON-F-{next(_numbers)}", title=f"Cours {i}",
                               formacodes=[], certifinfos=[]) for i in range(4)]
        db.session.add_all([*self.bodies, *self.courses])
        db.session.flush()
        self.sessions: list[Session] = []
        self.actions: dict[int, Action] = {}
        for _ in range(sessions):
            self.add_session()
        for session in self.sessions:
            self.fill(session, rng.randint(0, 9))

    def add_session(self, body: TrainingBody | None = None,
                    place: tuple[str, str, str, str] | None = None) -> Session:
        """A session of ``body`` (or a random one) and a random course, at ``place`` (or a
        random one), ended in the last 12 months; nobody enrolled."""
        rng = self.rng
        body, course = body or rng.choice(self.bodies), rng.choice(self.courses)
        action = Action(course_id=course.id, numero=f"MON-A-{next(_numbers)}",
                        training_body_id=body.id, responsible_body_id=body.id)
        db.session.add(action)
        db.session.flush()
        city, postcode, departement, region = place or rng.choice(PLACES)
        end = clock.today() - dt.timedelta(days=rng.randint(5, 365))
        session = Session(action_id=action.id, external_id=f"MON-S-{next(_numbers)}",
                          numero="1", start_date=end - dt.timedelta(days=60), end_date=end,
                          postcode=postcode, city=city, departement=departement,
                          region_code=region, funders=list(rng.choice(FUNDERS)),
                          funding_scheme=rng.choice(SCHEMES))
        db.session.add(session)
        db.session.flush()
        self.sessions.append(session)
        self.actions[session.id] = action
        return session

    def fill(self, session: Session, trainees: int) -> None:
        rng = self.rng
        campaign = rng.choice(CAMPAIGNS)
        for _ in range(trainees):
            enrolment = self.enrol(session, campaign if rng.random() < 0.85
                                   else rng.choice(CAMPAIGNS))
            if rng.random() < 0.9:
                self.invite(enrolment, InvitationKind.end_of_training)
            if rng.random() < 0.3:
                self.invite(enrolment, InvitationKind.follow_up)
        for _ in range(rng.randint(0, trainees)):
            self.answer(session)
        for _ in range(rng.randint(0, max(0, trainees // 3))):
            self.follow_up(session)

    def enrol(self, session: Session, campaign: str) -> Enrolment:
        trainee = Trainee(email=f"mon{next(_numbers)}@example.org")
        db.session.add(trainee)
        db.session.flush()
        enrolment = Enrolment(trainee_id=trainee.id, session_id=session.id, campaign=campaign)
        db.session.add(enrolment)
        db.session.flush()
        return enrolment

    def invite(self, enrolment: Enrolment, kind: InvitationKind) -> Invitation:
        """An invitation in a random status, with event times that may disagree with it
        (late and out-of-order provider events)."""
        rng = self.rng
        now = clock.now()
        status = rng.choice(list(S))
        maybe = lambda p: now - dt.timedelta(hours=rng.randint(1, 48)) if rng.random() < p \
            else None  # noqa: E731
        invitation = Invitation(
            enrolment_id=enrolment.id, kind=kind, status=status, created_dt=now,
            expires_dt=now + dt.timedelta(days=60), status_dt=now,
            first_sent_dt=None if status in (S.pending, S.failed) and rng.random() < 0.9
            else maybe(0.9),
            delivered_dt=maybe(0.4), opened_dt=maybe(0.2), clicked_dt=maybe(0.2),
            answered_dt=now if status == S.answered else None)
        db.session.add(invitation)
        db.session.flush()
        return invitation

    def answer(self, session: Session, *, day: dt.date | None = None,
               body_id: int | None = None) -> Answer:
        rng = self.rng
        action = self.actions[session.id]
        marks = [rng.randint(1, 5) for _ in DIMENSIONS]
        row = Answer(session_id=session.id, action_id=action.id, course_id=action.course_id,
                     training_body_id=body_id or action.training_body_id,
                     **dict(zip(DIMENSIONS, marks, strict=True)),
                     overall=decimal.Decimal(sum(marks)) / 5,
                     would_recommend=rng.random() < 0.7, answered_on=day or clock.today(),
                     excluded_reason=ExclusionReason.fraud if rng.random() < 0.1 else None)
        db.session.add(row)
        db.session.flush()
        return row

    def follow_up(self, session: Session, *, day: dt.date | None = None) -> None:
        action = self.actions[session.id]
        db.session.add(FollowUpAnswer(
            session_id=session.id, action_id=action.id, course_id=action.course_id,
            training_body_id=action.training_body_id,
            situation=self.rng.choice(list(Situation)), answered_on=day or clock.today()))
        db.session.flush()


# --- what the table must hold, from the raw rows ---------------------------------------

def _frame(query: Any) -> pd.DataFrame:
    result = db.session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def expected_rows() -> pd.DataFrame:
    """Every row of ``monitoring_counts`` (without its id), computed with pandas."""
    sessions = _frame(sa.select(Session.id.label("session_id"), Session.region_code,
                                Session.departement, Session.end_date, Session.funders,
                                Session.funding_scheme, Action.course_id,
                                Action.training_body_id)
                      .join(Action, Action.id == Session.action_id))
    sessions["end_month"] = sessions["end_date"].map(lambda d: d.replace(day=1))
    enrolments = _frame(sa.select(Enrolment.id.label("enrolment_id"), Enrolment.session_id,
                                  Enrolment.campaign))
    invitations = _frame(sa.select(Invitation.__table__))
    frames = []

    i = invitations
    answered = i["status"] == S.answered
    clicked = i["clicked_dt"].notna() | answered
    opened = i["opened_dt"].notna() | (i["status"] == S.opened) | clicked
    delivered = opened | ((i["delivered_dt"].notna() | i["status"].isin([S.delivered,
                                                                          S.complained]))
                          & (i["status"] != S.bounced))
    sent = delivered | i["first_sent_dt"].notna() | i["status"].isin([S.sent, S.bounced])
    flags = pd.DataFrame({"enrolment_id": i["enrolment_id"], "kind": i["kind"].astype(str),
                          "invited": 1, "sent": sent, "delivered": delivered,
                          "opened": opened, "clicked": clicked, "answered": answered,
                          **{name: i["status"] == S(name) for name in OUTCOMES}})
    for name in STEPS[1:] + OUTCOMES:
        flags[name] = flags[name].astype(int)
    placed = enrolments.merge(sessions[["session_id", "training_body_id", "course_id"]],
                              on="session_id")
    for kind in InvitationKind:
        of_kind = flags[flags["kind"] == kind.value]
        how = "left" if kind == InvitationKind.end_of_training else "inner"
        rows = placed.merge(of_kind, on="enrolment_id", how=how)
        rows["kind"] = kind.value
        rows["enrolled"] = 1 if kind == InvitationKind.end_of_training else 0
        rows = rows.fillna({name: 0 for name in STEPS[1:] + OUTCOMES})
        frames.append(rows[KEY + list(STEPS + OUTCOMES)])

    first = enrolments.groupby("session_id")["campaign"].min().rename("campaign").reset_index()
    answers = _frame(sa.select(Answer.__table__))
    answers = answers[answers["excluded_reason"].isna()].merge(first, on="session_id",
                                                                 how="left")
    answers["campaign"] = answers["campaign"].fillna("")
    answers["kind"] = InvitationKind.end_of_training.value
    answers["answers"] = 1
    answers["marks_total"] = sum(answers[d].astype(int) for d in DIMENSIONS)
    answers["satisfied"] = (answers["overall"].map(float) >= 4).astype(int)
    answers["recommended"] = answers["would_recommend"].astype(int)
    frames.append(answers[[*KEY, "answers", "marks_total", "satisfied", "recommended"]])

    follow_ups = _frame(sa.select(FollowUpAnswer.__table__)).merge(first, on="session_id",
                                                                    how="left")
    follow_ups["campaign"] = follow_ups["campaign"].fillna("")
    follow_ups["kind"] = InvitationKind.follow_up.value
    follow_ups["follow_ups"] = 1
    follow_ups["employed"] = (follow_ups["situation"] == Situation.employed).astype(int)
    frames.append(follow_ups[[*KEY, "follow_ups", "employed"]])

    stacked = pd.concat(frames, ignore_index=True)
    for name in COUNTS:
        stacked[name] = stacked[name].fillna(0).astype(int) if name in stacked \
            else 0
    summed = stacked.groupby(KEY, as_index=False)[list(COUNTS)].sum()
    summed = summed.merge(sessions[["session_id", *PLACE]], on="session_id")
    return _normalised(summed)


def table_rows() -> pd.DataFrame:
    """``monitoring_counts`` as stored (without its id)."""
    frame = _frame(sa.select(*(c for c in FunnelCount.__table__.c if c.name != "id")))
    return _normalised(frame)


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["kind"] = frame["kind"].astype(str)
    frame["funders"] = frame["funders"].map(lambda codes: tuple(codes))
    frame["funding_scheme"] = frame["funding_scheme"].map(lambda s: s if isinstance(s, str) else "")
    for name in COUNTS:
        frame[name] = frame[name].astype(int)
    columns = KEY + PLACE + list(COUNTS)
    return (frame[columns].sort_values(KEY).reset_index(drop=True))


MONTH_KEY = ["region_code", "campaign", "end_month", "funders", "funding_scheme", "kind"]
#: Each table of sums of the session rows, and its key.
SUMMED = {FunnelMonthCount: MONTH_KEY,
          FunnelBodyCount: ["training_body_id", "region_code", "departement", "kind"],
          FunnelCourseCount: ["course_id", "region_code", "departement", "kind"]}


def summed_rows(model: type, key: list[str]) -> pd.DataFrame:
    """A table of sums as stored (without its id), sorted by ``key``."""
    frame = _frame(sa.select(*(c for c in model.__table__.c if c.name != "id")))
    frame["kind"] = frame["kind"].astype(str)
    if "funders" in key:
        frame["funders"] = frame["funders"].map(tuple)
    return (frame[key + list(COUNTS)].sort_values(key, key=_sortable)
            .reset_index(drop=True))


def month_rows() -> pd.DataFrame:
    """``monitoring_month_counts`` as stored (without its id)."""
    return summed_rows(FunnelMonthCount, MONTH_KEY)


def _sortable(column: pd.Series) -> pd.Series:
    return column.map(str)


def assert_table_matches() -> None:
    """The session rows equal what pandas counts from the raw rows, and each table of
    sums (months; bodies; courses) equals pandas summing those rows per its key."""
    expected, actual = expected_rows(), table_rows()
    assert len(actual) == len(expected)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    for model, key in SUMMED.items():
        sums = (expected.groupby(key, as_index=False)[list(COUNTS)].sum()
                .sort_values(key, key=_sortable).reset_index(drop=True))
        sums = sums[sums[list(COUNTS)].sum(axis=1) > 0].reset_index(drop=True)
        stored = summed_rows(model, key)
        assert len(stored) > 0, model.__tablename__
        pd.testing.assert_frame_equal(stored, sums, check_dtype=False,
                                      obj=model.__tablename__)
