"""A small catalogue with reviews, for the public pages: bodies with names, places,
courses, formacodes and funders chosen so that each search criterion finds a known set."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import random
from dataclasses import dataclass, field

import pytest

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.public.search import rebuild_index
from avis.scores.aggregate import recompute_all
from avis.surveys.models.answers import DIMENSIONS, Answer, CommentStatus, Reply
from tests.catalog.fixtures import make_siret
from tests.surveys.fixtures import create_invitation, enrol

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Place:
    city: str
    postcode: str
    departement: str
    region: str = "52"
    funders: tuple[int, ...] = (2,)


NANTES = Place("Nantes", "44000", "44")
ANGERS = Place("Angers", "49000", "49", funders=(4,))
LAVAL = Place("Laval", "53000", "53", funders=(2, 4))
RENNES = Place("Rennes", "35000", "35", region="53", funders=(10,))


@dataclass
class Offer:
    """A body's course at one place: one action, one session."""

    body: TrainingBody
    course: Course
    action: Action
    session: Session
    answers: list[Answer] = field(default_factory=list)


def add_body(name: str, *, siret: str | None = None) -> TrainingBody:
    n = next(_numbers)
    siret = siret or make_siret(7_000_000 + n)
    body = TrainingBody(siret=siret, siren=siret[:9], name=name)
    db.session.add(body)
    db.session.flush()
    return body


def add_offer(body: TrainingBody, title: str, place: Place, *,
              formacodes: tuple[str, ...] = (), enrolled: int = 10,
              course: Course | None = None) -> Offer:
    """``body`` teaches ``title`` at ``place``: a session ended 30 days ago with
    ``enrolled`` trainees, each invited (first email sent)."""
    n = next(_numbers)
    if course is None:
        course = Course(numero=f"PUB-F-{n}", title=title, formacodes=list(formacodes),
                        certifinfos=[])
        db.session.add(course)
        db.session.flush()
    action = Action(course_id=course.id, numero=f"PUB-A-{n}", training_body_id=body.id,
                    responsible_body_id=body.id)
    db.session.add(action)
    db.session.flush()
    end = clock.today() - dt.timedelta(days=30)
    session = Session(action_id=action.id, external_id=f"PUB-S-{n}", numero=f"{n}",
                      start_date=end - dt.timedelta(days=60), end_date=end,
                      postcode=place.postcode, city=place.city,
                      departement=place.departement, region_code=place.region,
                      funders=list(place.funders))
    db.session.add(session)
    db.session.flush()
    for _ in range(enrolled):
        create_invitation(enrol(session))
    return Offer(body=body, course=course, action=action, session=session)


def add_answer(offer: Offer, marks: tuple[int, ...], *, day: dt.date | None = None,
               comment: tuple[str | None, str] | None = None,
               status: CommentStatus | None = CommentStatus.published,
               public: bool = True, recommend: bool = True) -> Answer:
    """An answer to ``offer`` with ``marks`` (five); a comment when given."""
    answer = Answer(
        session_id=offer.session.id, action_id=offer.action.id, course_id=offer.course.id,
        training_body_id=offer.body.id, **dict(zip(DIMENSIONS, marks, strict=True)),
        overall=decimal.Decimal(sum(marks)) / 5, would_recommend=recommend,
        comment_title=comment[0] if comment else None,
        comment_text=comment[1] if comment else None,
        comment_public=bool(comment) and public,
        comment_status=status if comment and public else None,
        answered_on=day or clock.today() - dt.timedelta(days=20))
    db.session.add(answer)
    db.session.flush()
    offer.answers.append(answer)
    return answer


def add_reply(answer: Answer, text: str,
              status: CommentStatus = CommentStatus.published) -> Reply:
    reply = Reply(answer_id=answer.id, text=text, status=status)
    db.session.add(reply)
    db.session.flush()
    return reply


def publish() -> None:
    """Commit, then compute the scores and the search index as the jobs would."""
    db.session.commit()
    recompute_all()
    rebuild_index()


@dataclass
class PublicWorld:
    #: many answers, in Nantes and Laval, two courses
    atlantique: TrainingBody
    #: enough answers, but worse marks, in Angers
    anjou: TrainingBody
    #: two answers: below the threshold
    mayenne: TrainingBody
    #: no answer at all, in Rennes (another region)
    bretagne: TrainingBody
    offers: dict[str, Offer]


@pytest.fixture
def public_world(app_context: None) -> PublicWorld:
    rng = random.Random(5)
    atlantique = add_body("Atlantique Formation Conseil")
    anjou = add_body("Anjou Compétences")
    mayenne = add_body("Institut Mayenne Métiers")
    bretagne = add_body("Bretagne Savoir-Faire")
    offers = {
        "welding": add_offer(atlantique, "Soudeur industriel", NANTES, formacodes=("22683",),
                             enrolled=30),
        "care": add_offer(atlantique, "Aide-soignant en établissement", LAVAL,
                          formacodes=("43436",)),
        "anjou": add_offer(anjou, "Cuisinier en restauration collective", ANGERS,
                           formacodes=("42752",)),
        "mayenne": add_offer(mayenne, "Comptable assistant", LAVAL, formacodes=("32663",)),
        "bretagne": add_offer(bretagne, "Électricien du bâtiment", RENNES,
                              formacodes=("22252",)),
    }
    for _ in range(24):
        add_answer(offers["welding"], tuple(rng.choice([4, 5, 5]) for _ in DIMENSIONS))
    for _ in range(6):
        add_answer(offers["care"], tuple(rng.choice([3, 4, 5]) for _ in DIMENSIONS))
    for _ in range(8):
        add_answer(offers["anjou"], tuple(rng.choice([1, 2, 3]) for _ in DIMENSIONS),
                   recommend=False)
    add_answer(offers["mayenne"], (5, 5, 5, 5, 5))
    add_answer(offers["mayenne"], (5, 5, 5, 5, 4))
    publish()
    return PublicWorld(atlantique=atlantique, anjou=anjou, mayenne=mayenne,
                       bretagne=bretagne, offers=offers)
