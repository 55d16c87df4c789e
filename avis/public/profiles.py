"""What the body, course and comparison pages show, read in a few queries each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import among, db
from avis.scores.models import Score, ScoreScope


@dataclass(frozen=True)
class Place:
    city: str
    postcode: str

    def __str__(self) -> str:
        return f"{self.city} ({self.postcode})"


@dataclass(frozen=True)
class Rating:
    """What a list shows of a score: enough to say "4,2 / 5 · 12 reviews"."""

    answers_count: int
    #: the score may be shown (enough answers from a large enough group)
    has_score: bool
    fair_score: float | None


@dataclass
class Offer:
    """One body's delivery of one course (one action, or several with the same course)."""

    course_id: int
    course_numero: str
    course_title: str
    body_siret: str
    body_name: str
    places: list[Place] = field(default_factory=list)
    #: the action's rating (None before any answer); several actions of the same body
    #: and course show the first one's
    rating: Rating | None = None


@dataclass
class BodyProfile:
    body: TrainingBody
    score: Score | None
    offers: list[Offer]

    @property
    def places(self) -> list[Place]:
        seen: dict[Place, None] = {}
        for offer in self.offers:
            for place in offer.places:
                seen.setdefault(place, None)
        return sorted(seen, key=lambda p: (p.city, p.postcode))


@dataclass
class CourseProfile:
    course: Course
    score: Score | None
    offers: list[Offer]


def scores_of(scope: ScoreScope, ids: Iterable[int]) -> dict[int, Score]:
    keys = [str(i) for i in ids]
    if not keys:
        return {}
    found = db.session.scalars(sa.select(Score).where(Score.scope == scope,
                                                      Score.key.in_(keys)))
    return {int(score.key): score for score in found}


def ratings_of(scope: ScoreScope, ids: Iterable[int]) -> dict[int, Rating]:
    """The ratings of ``ids`` in ``scope``: three columns, not whole score rows."""
    keys = [str(i) for i in ids]
    if not keys:
        return {}
    found = db.session.execute(
        sa.select(Score.key, Score.answers_count, Score.has_score & Score.is_public,
                  Score.fair_score)
        .where(Score.scope == scope, among(Score.key, keys, sa.String)))
    return {int(key): Rating(count, has_score, fair) for key, count, has_score, fair in found}


def body_by_siret(siret: str) -> TrainingBody | None:
    return db.session.scalar(sa.select(TrainingBody).where(TrainingBody.siret == siret))


def _offers(where: sa.ColumnElement[bool]) -> list[Offer]:
    """The offers matching ``where`` (on actions), with their places and ratings."""
    rows = db.session.execute(
        sa.select(Action.id, Course.id, Course.numero, Course.title, TrainingBody.id,
                  TrainingBody.siret, TrainingBody.name)
        .join(Course, Course.id == Action.course_id)
        .join(TrainingBody, TrainingBody.id == Action.training_body_id)
        .where(where)
        .order_by(Course.title, TrainingBody.name, Action.id)).all()
    offers: dict[tuple[int, int], Offer] = {}
    offer_of: dict[int, tuple[int, int]] = {}
    for action_id, course_id, numero, title, body_id, siret, name in rows:
        offer_of[action_id] = (course_id, body_id)
        offers.setdefault(offer_of[action_id], Offer(
            course_id=course_id, course_numero=numero, course_title=title,
            body_siret=siret, body_name=name))
    places: dict[tuple[int, int], set[Place]] = defaultdict(set)
    for action_id, city, postcode in db.session.execute(
            sa.select(Session.action_id, Session.city, Session.postcode).distinct()
            .where(among(Session.action_id, list(offer_of)))):
        places[offer_of[action_id]].add(Place(city, postcode))
    ratings = ratings_of(ScoreScope.action, offer_of)
    for key, offer in offers.items():
        offer.places = sorted(places[key], key=lambda p: (p.city, p.postcode))
    for action_id, key in offer_of.items():
        if offers[key].rating is None and action_id in ratings:
            offers[key].rating = ratings[action_id]
    return list(offers.values())


def body_profile(body: TrainingBody) -> BodyProfile:
    score = scores_of(ScoreScope.body, [body.id]).get(body.id)
    return BodyProfile(body=body, score=score,
                       offers=_offers(Action.training_body_id == body.id))


def course_by_numero(numero: str) -> Course | None:
    if any(ord(c) < 32 or ord(c) == 127 for c in numero):
        return None  # no such number; PostgreSQL would refuse a NUL
    return db.session.scalar(sa.select(Course).where(Course.numero == numero))


def course_profile(course: Course) -> CourseProfile:
    score = scores_of(ScoreScope.course, [course.id]).get(course.id)
    offers = _offers(Action.course_id == course.id)
    offers.sort(key=lambda o: (not (o.rating and o.rating.has_score),
                               -(o.rating.fair_score or 0) if o.rating else 0, o.body_name))
    return CourseProfile(course=course, score=score, offers=offers)


def compared(sirets: list[str]) -> tuple[list[BodyProfile], list[str]]:
    """The profiles of the known SIRETs, in the order given, and the unknown ones."""
    bodies = {b.siret: b for b in db.session.scalars(
        sa.select(TrainingBody).where(TrainingBody.siret.in_(sirets)))}
    scores = scores_of(ScoreScope.body, [b.id for b in bodies.values()])
    profiles = [BodyProfile(body=bodies[s], score=scores.get(bodies[s].id),
                            offers=_offers(Action.training_body_id == bodies[s].id))
                for s in sirets if s in bodies]
    return profiles, [s for s in sirets if s not in bodies]
