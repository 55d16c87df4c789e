"""Courses, actions and sessions of API v1 (``/formations``, ``/actions``,
``/sessions``), each with its score and its latest reviews, as ANOTEA served them.

Identifiers are the catalogue's numbers: a course ``numero``, an action
``course|action``, a session ``course|action|session``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from avis.api import documents, jsonld, queries
from avis.api.documents import Rounding
from avis.api.params import has_control_character
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.public.profiles import scores_of
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer

#: Reviews embedded in a course, action or session (newest first); the whole list is
#: paginated at ``…/{id}/avis``.
EMBEDDED_REVIEWS = 50
SEPARATOR = "|"


@dataclass(frozen=True)
class Kind:
    """What differs between courses, actions and sessions."""

    name: str  # formation, action, session
    plural: str  # the list's key
    scope: ScoreScope
    parts: int  # numbers in an identifier
    unknown: str  # ANOTEA's 404 message
    answers_of: str  # the review filter naming one of them (``queries.ReviewFilters``)

    def model(self) -> Any:
        return {ScoreScope.course: Course, ScoreScope.action: Action,
                ScoreScope.session: Session}[self.scope]


FORMATION = Kind("formation", "formations", ScoreScope.course, 1,
                 "Numéro formation inconnu ou formation expirée", "course")
ACTION = Kind("action", "actions", ScoreScope.action, 2,
              "Numéro action inconnu ou action expirée", "action")
SESSION = Kind("session", "sessions", ScoreScope.session, 3,
               "Numéro session inconnu ou session expirée", "session")


def _select(kind: Kind) -> Any:
    """Rows of (object id, course, action, session, body) for ``kind``."""
    if kind is FORMATION:
        return sa.select(Course.id, Course, sa.null(), sa.null(), sa.null())
    if kind is ACTION:
        return (sa.select(Action.id, Course, Action, sa.null(), TrainingBody)
                .join(Course, Course.id == Action.course_id)
                .join(TrainingBody, TrainingBody.id == Action.training_body_id))
    return (sa.select(Session.id, Course, Action, Session, TrainingBody)
            .join(Action, Action.id == Session.action_id)
            .join(Course, Course.id == Action.course_id)
            .join(TrainingBody, TrainingBody.id == Action.training_body_id))


def split(kind: Kind, identifier: str) -> list[str] | None:
    parts = identifier.split(SEPARATOR)
    if (len(parts) != kind.parts or not all(parts) or len(identifier) > 250
            or has_control_character(identifier)):
        return None
    return parts


def by_numbers(kind: Kind, parts: list[str]) -> list[Any]:
    conditions = [Course.numero == parts[0]]
    if kind.parts > 1:
        conditions.append(Action.numero == parts[1])
    if kind.parts > 2:
        conditions.append(Session.numero == parts[2])
    return conditions


def filters(kind: Kind, values: dict[str, Any]) -> list[Any] | None:
    """Conditions of a list; None when an ``id`` given cannot match anything."""
    conditions: list[Any] = []
    if values.get("id"):
        alternatives = []
        for identifier in values["id"].split(","):
            parts = split(kind, identifier.strip())
            if parts is not None:
                alternatives.append(sa.and_(*by_numbers(kind, parts)))
        if not alternatives:
            return None
        conditions.append(sa.or_(*alternatives))
    if values.get("numero"):
        column = {FORMATION: Course.numero, ACTION: Action.numero,
                  SESSION: Session.numero}[kind]
        conditions.append(column.in_([n.strip() for n in values["numero"].split(",")]))
    if values.get("region") and kind is not FORMATION:
        places = sa.select(Session.action_id).where(Session.region_code == values["region"])
        conditions.append(Action.id.in_(places) if kind is ACTION
                          else Session.region_code == values["region"])
    if values.get("nb_avis"):
        model = kind.model()
        conditions.append(model.id.in_(sa.select(sa.cast(Score.key, sa.Integer)).where(
            Score.scope == kind.scope, Score.answers_count >= values["nb_avis"])))
    return conditions


def find(kind: Kind, conditions: list[Any], *, limit: int, offset: int
         ) -> tuple[int, list[Any]]:
    query = _select(kind).where(*conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(kind.model().id).subquery())) or 0
    if not limit or offset >= total:
        return total, []
    order = {FORMATION: (Course.numero,), ACTION: (Course.numero, Action.numero),
             SESSION: (Course.numero, Action.numero, Session.numero)}[kind]
    rows = db.session.execute(query.order_by(*order, kind.model().id)
                              .limit(limit).offset(offset)).all()
    return total, rows


def answers_of(kind: Kind, object_id: int) -> Any:
    """SQL condition: the answer is about this course, action or session (the widget)."""
    column = {FORMATION: Answer.course_id, ACTION: Answer.action_id,
              SESSION: Answer.session_id}[kind]
    return column == object_id


def document(kind: Kind, row: Any, score: Score | None, rounding: Rounding,
             embedded: bool) -> dict[str, Any]:
    object_id, course, action, session, body = row
    numbers = [course.numero, *([action.numero] if action is not None else []),
               *([session.numero] if session is not None else [])]
    result: dict[str, Any] = {"id": SEPARATOR.join(numbers), "numero": numbers[-1]}
    if kind is FORMATION:
        result["intitule"] = course.title
    else:
        result["region"] = session.region_code if session is not None else _region(action.id)
    if embedded:
        about = queries.ReviewFilters()
        about.add(kind.answers_of, object_id)
        _total, rows = queries.reviews(about, sort="date", order="desc",
                                       limit=EMBEDDED_REVIEWS, offset=0)
        result["avis"] = [documents.review(r, rounding) for r in rows]
    result["score"] = documents.score(score, rounding, None)
    reconciliation: dict[str, Any] = {"certifinfos": list(course.certifinfos or []),
                                      "formacodes": list(course.formacodes or [])}
    source: dict[str, Any] = {"numero_formation": course.numero, "type": "catalogue"}
    if kind is FORMATION:
        reconciliation["organisme_formateurs"] = _course_bodies(course.id)
    else:
        reconciliation["organisme_formateur"] = body.siret
        reconciliation["lieu_de_formation"] = (session.postcode if session is not None
                                               else _postcode(action.id))
        source["numero_action"] = action.numero
        if session is not None:
            source["numero_session"] = session.numero
    result["meta"] = {"reconciliation": reconciliation, "source": source}
    return result


def documents_of(kind: Kind, rows: list[Any], rounding: Rounding,
                 embedded: bool) -> list[dict[str, Any]]:
    scores = scores_of(kind.scope, [row[0] for row in rows])
    return [document(kind, row, scores.get(row[0]), rounding, embedded) for row in rows]


def _course_bodies(course_id: int) -> list[str]:
    return list(db.session.scalars(
        sa.select(TrainingBody.siret).distinct()
        .join(Action, Action.training_body_id == TrainingBody.id)
        .where(Action.course_id == course_id).order_by(TrainingBody.siret)))


def _region(action_id: int) -> str | None:
    return db.session.scalar(sa.select(Session.region_code).where(
        Session.action_id == action_id).order_by(Session.end_date.desc()).limit(1))


def _postcode(action_id: int) -> str | None:
    return db.session.scalar(sa.select(Session.postcode).where(
        Session.action_id == action_id).order_by(Session.end_date.desc()).limit(1))


def json_ld(kind: Kind, row: Any, score: Score | None) -> dict[str, Any]:
    """The schema.org ``Course`` of a course, action or session."""
    _object_id, course, action, session, body = row
    if action is None:
        action = db.session.scalars(sa.select(Action).where(Action.course_id == course.id)
                                    .order_by(Action.numero).limit(1)).first()
    responsible = (db.session.get(TrainingBody, action.responsible_body_id)
                   if action is not None else None)
    provider = (jsonld.organization(responsible.name, responsible.siret)
                if responsible is not None else None)
    instance = None
    if session is not None:
        instance = jsonld.course_instance(
            postcode=session.postcode, city=session.city,
            performer=jsonld.organization(body.name, body.siret),
            start=session.start_date.isoformat(), end=session.end_date.isoformat())
    code = SEPARATOR.join([course.numero, *([row[2].numero] if row[2] is not None else []),
                           *([session.numero] if session is not None else [])])
    return jsonld.course(name=course.title, code=code, provider=provider or {},
                         score=score, instance=instance)
