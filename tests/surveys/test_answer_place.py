"""An answer carries its session's région and département, copied by the database
(the moderation queue and the scopes read them without joining sessions)."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa

from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.db import db
from avis.surveys.models.answers import DIMENSIONS, Answer
from tests.surveys.fixtures import create_session


def _row(session: Session) -> dict[str, object]:
    action = db.session.get(Action, session.action_id)
    assert action is not None
    return {"session_id": session.id, "action_id": action.id, "course_id": action.course_id,
            "training_body_id": action.training_body_id, **dict.fromkeys(DIMENSIONS, 4),
            "overall": decimal.Decimal(4), "would_recommend": True,
            "answered_on": dt.date(2026, 11, 2)}


def _places() -> dict[int, tuple[str | None, str | None]]:
    return {id_: (region, departement) for id_, region, departement in db.session.execute(
        sa.select(Answer.id, Answer.region_code, Answer.departement))}


def test_written_by_the_app_or_by_a_bulk_insert_with_or_without_a_place(
        app_context: None) -> None:
    session = create_session(dt.date(2026, 10, 1))
    other = create_session(dt.date(2026, 10, 1))
    db.session.execute(sa.update(Session).where(Session.id == other.id)
                       .values(region_code="11", departement="75"))
    written = Answer(**_row(session))
    db.session.add(written)
    db.session.flush()
    assert (written.region_code, written.departement) == ("52", "44")
    # A bulk load, even one that says something else, gets the session's place.
    db.session.execute(sa.insert(Answer), [_row(other), {**_row(session), "region_code": "84",
                                                         "departement": "69"}])
    db.session.commit()
    assert sorted(_places().values()) == [("11", "75"), ("52", "44"), ("52", "44")]


def test_follows_a_session_that_moves_and_an_answer_moved_to_another_session(
        app_context: None) -> None:
    nantes = create_session(dt.date(2026, 10, 1))
    angers = create_session(dt.date(2026, 10, 1))
    db.session.add_all([Answer(**_row(nantes)), Answer(**_row(nantes)), Answer(**_row(angers))])
    db.session.commit()
    db.session.execute(sa.update(Session).where(Session.id == nantes.id)
                       .values(departement="35", region_code="53"))
    db.session.commit()
    moved = {id_ for id_, place in _places().items() if place == ("53", "35")}
    assert len(moved) == 2
    assert list(_places().values()).count(("52", "44")) == 1  # the other session's stays
    db.session.execute(sa.update(Answer).where(Answer.id == min(moved))
                       .values(session_id=angers.id))
    db.session.commit()
    assert _places()[min(moved)] == ("52", "44")
