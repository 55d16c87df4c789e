"""A training body's world for its home and Qualiopi pages: a network of two
establishments (one SIREN), a foreign body, peers teaching the same formacode in the
same région (and bodies that are not peers), sessions large and small.

Every body and trainee has words found nowhere else, so that a page showing what it
should not is caught by a plain text search.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from dataclasses import dataclass, field

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.db import db
from avis.scores.aggregate import recompute_all
from avis.surveys.models.answers import DIMENSIONS, Answer, FollowUpAnswer, Situation
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import NANTES, RENNES, Place, add_body
from tests.surveys.fixtures import create_invitation, enrol

_numbers = itertools.count(1)
FORMACODE = "22252"
#: Answers of each size of session: large ones are shown alone, small ones grouped.
LARGE, SMALL_A, SMALL_B = 8, 2, 3


@dataclass
class BodyWorld:
    #: SIREN of the network; SIRETs of its two establishments
    siren: str
    main_siret: str
    second_siret: str
    foreign_siret: str
    #: names that must never reach the network's pages (foreign body, peers)
    foreign_names: list[str]
    #: the peers' fair scores are read from the database by the tests
    peer_sirets: list[str]
    #: session numbers of the main establishment: large and small ones
    large_sessions: list[str]
    small_sessions: list[str]
    #: trainees' emails and names (never on a body's page)
    trainees: list[str] = field(default_factory=list)


def add_session(action: Action, place: Place, end: dt.date, enrolled: int,
                trainees: list[str]) -> Session:
    n = next(_numbers)
    session = Session(action_id=action.id, external_id=f"HOME-S-{n}", numero=f"SES{n:04d}",
                      start_date=end - dt.timedelta(days=60), end_date=end,
                      postcode=place.postcode, city=place.city,
                      departement=place.departement, region_code=place.region,
                      funders=list(place.funders))
    db.session.add(session)
    db.session.flush()
    for _ in range(enrolled):
        number = next(_numbers)
        email = f"stagiaire.cache{number}@example.org"
        last_name = f"Nomcache{number}"
        trainees += [email, last_name]
        create_invitation(enrol(session, email, first_name="Prenomcache", last_name=last_name))
    return session


def add_action(body_id: int, course: Course) -> Action:
    action = Action(course_id=course.id, numero=f"HOME-A-{next(_numbers)}",
                    training_body_id=body_id, responsible_body_id=body_id)
    db.session.add(action)
    db.session.flush()
    return action


def add_course(title: str, formacodes: tuple[str, ...] = (FORMACODE,)) -> Course:
    course = Course(numero=f"HOME-F-{next(_numbers)}", title=title,
                    formacodes=list(formacodes), certifinfos=[])
    db.session.add(course)
    db.session.flush()
    return course


def answer(session: Session, action: Action, marks: tuple[int, ...], day: dt.date,
           recommend: bool = True, excluded: bool = False) -> Answer:
    from avis.surveys.models.answers import ExclusionReason

    found = Answer(session_id=session.id, action_id=action.id, course_id=action.course_id,
                   training_body_id=action.training_body_id,
                   **dict(zip(DIMENSIONS, marks, strict=True)),
                   overall=decimal.Decimal(sum(marks)) / 5, would_recommend=recommend,
                   answered_on=day,
                   excluded_reason=next(iter(ExclusionReason)) if excluded else None)
    db.session.add(found)
    db.session.flush()
    return found


def follow_up(session: Session, action: Action, situation: Situation, day: dt.date) -> None:
    db.session.add(FollowUpAnswer(session_id=session.id, action_id=action.id,
                                  course_id=action.course_id,
                                  training_body_id=action.training_body_id,
                                  situation=situation, answered_on=day))
    db.session.flush()


def build_world() -> BodyWorld:
    """The world, committed and scored."""
    today = clock.today()
    trainees: list[str] = []
    siren_base = 27_000_000 + next(_numbers) * 1000
    main = add_body("Atelier Bleuet Nantes", siret=make_siret(siren_base))
    # The same SIREN, another establishment number.
    second = add_body("Atelier Bleuet Rennes", siret=make_siret(siren_base + 10**8))
    foreign = add_body("Concurrent Zinnia Formation", siret=make_siret(siren_base + 2))

    # The main establishment: one course with a large session, two small ones, and an
    # older large session (last year); a second course with one small session only.
    joinery = add_course("Menuiserie bleuet")
    action = add_action(main.id, joinery)
    recent = add_session(action, NANTES, today - dt.timedelta(days=40), 10, trainees)
    small_a = add_session(action, NANTES, today - dt.timedelta(days=50), 3, trainees)
    small_b = add_session(action, NANTES, today - dt.timedelta(days=70), 4, trainees)
    old = add_session(action, NANTES, today - dt.timedelta(days=420), 10, trainees)
    for i in range(LARGE):
        answer(recent, action, (5, 4, 5, 4, 5) if i % 2 else (4, 4, 3, 4, 4),
               today - dt.timedelta(days=30 + i), recommend=i != 0)
    # One excluded answer: counted nowhere.
    answer(recent, action, (1, 1, 1, 1, 1), today - dt.timedelta(days=31), excluded=True)
    for i in range(SMALL_A):
        answer(small_a, action, (1, 2, 1, 2, 1), today - dt.timedelta(days=45 + i))
    for i in range(SMALL_B):
        answer(small_b, action, (2, 2, 2, 2, 2), today - dt.timedelta(days=65 + i),
               recommend=False)
    for i in range(LARGE):
        answer(old, action, (3, 4, 3, 4, 3), today - dt.timedelta(days=400 + 3 * i))
    for i in range(6):
        follow_up(old, action, Situation.employed if i < 4 else Situation.job_seeking,
                  today - dt.timedelta(days=200))
    painting = add_course("Peinture bleuet", formacodes=("22252", "22254"))
    lone = add_session(add_action(main.id, painting), NANTES,
                       today - dt.timedelta(days=35), 5, trainees)
    lone_action = db.session.get(Action, lone.action_id)
    for i in range(3):
        answer(lone, lone_action, (5, 5, 5, 5, 5), today - dt.timedelta(days=25 + i))

    # The second establishment (Rennes): a few answers.
    second_action = add_action(second.id, add_course("Plomberie bleuet", ("99999",)))
    rennes = add_session(second_action, RENNES, today - dt.timedelta(days=40), 8, trainees)
    for _ in range(6):
        answer(rennes, second_action, (4, 4, 4, 4, 4), today - dt.timedelta(days=20))

    # The foreign body, a peer too (same formacode, same région).
    bodies = [foreign] + [add_body(f"Pair Glycine {n}") for n in range(1, 7)]
    peer_marks = [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (3, 3, 3, 3, 3), (2, 2, 2, 2, 2),
                  (4, 5, 4, 5, 4), (3, 4, 3, 4, 3), (2, 3, 2, 3, 2)]
    for body, marks in zip(bodies, peer_marks, strict=True):
        peer_action = add_action(body.id, add_course(f"Cours de {body.name}"))
        peer_session = add_session(peer_action, NANTES, today - dt.timedelta(days=40), 8,
                                   trainees)
        for i in range(6):
            answer(peer_session, peer_action, marks, today - dt.timedelta(days=20 + i))
    # Not peers: the same formacode in another région; another formacode in the région.
    elsewhere = add_body("Hors Champ Bretagne")
    other_trade = add_body("Hors Champ Cuisine")
    for body, place, codes in ((elsewhere, RENNES, (FORMACODE,)),
                               (other_trade, NANTES, ("11111",))):
        other_action = add_action(body.id, add_course(f"Cours de {body.name}", codes))
        other_session = add_session(other_action, place, today - dt.timedelta(days=40), 8,
                                    trainees)
        for _ in range(6):
            answer(other_session, other_action, (1, 1, 1, 1, 1), today - dt.timedelta(days=20))
    db.session.commit()
    recompute_all()
    return BodyWorld(
        siren=main.siren, main_siret=main.siret, second_siret=second.siret,
        foreign_siret=foreign.siret,
        foreign_names=[b.name for b in (*bodies, elsewhere, other_trade)]
        + [f"Cours de {b.name}" for b in (*bodies, elsewhere, other_trade)],
        peer_sirets=[b.siret for b in bodies],
        large_sessions=[recent.numero, old.numero],
        small_sessions=[small_a.numero, small_b.numero, lone.numero],
        trainees=trainees)
