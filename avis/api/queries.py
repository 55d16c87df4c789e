"""Read queries of API v1. Reviews are the answers of sessions large enough to be shown
one by one; a comment (and the body's reply) only when published."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.sql import util as sql_util

from avis.api.documents import ReviewRow
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import among, db
from avis.public.reviews import (
    from_public_session,
    is_public_session,
    is_shown_if_public,
    review_window_start,
    shown_statuses,
)
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer, Reply

_ORDER = {"date": (Answer.answered_on,), "notes": (Answer.overall,),
          "formation": (Course.title,)}


def _code_list_has(column: Any, value: Any, *, prefix: bool, dialect: str) -> Any:
    """SQL condition: the JSON list of codes ``column`` holds ``value`` (or a code that
    starts with it: a formacode domain, anchored at the start)."""
    if dialect == "postgresql":
        element = sa.func.jsonb_array_elements_text(column).table_valued("value").alias("c")
    else:
        element = sa.func.json_each(column).table_valued("value").alias("c")
    test = element.c.value.startswith(value) if prefix else element.c.value == value
    return sa.exists(sa.select(1).select_from(element).where(test))


@dataclass
class ReviewFilters:
    """What a review list asks: the names of its conditions (``_condition``), in a fixed
    order, and their values. The statements of each set of names are built once per
    worker (``_statements``): building and hashing a statement of this size cost more
    than PostgreSQL's work for a page of a large body."""

    names: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    #: a condition that nothing can match (an unknown SIRET): no query at all
    nothing: bool = False

    def add(self, name: str, value: Any = None) -> None:
        self.names.append(name)
        if value is not None:
            self.values[name] = value


def _condition(name: str, dialect: str) -> Any:
    """The SQL condition ``name``, its value a parameter of the same name."""
    value = sa.bindparam(name)
    match name:
        case "body":
            return Answer.training_body_id == value
        case "course":
            return Answer.course_id == value
        case "action":
            return Answer.action_id == value
        case "session":
            return Answer.session_id == value
        case "siren":
            return TrainingBody.siret.startswith(sa.bindparam(name, type_=sa.String))
        case "postcode":
            return Session.postcode == value
        case "certif_info":
            return _code_list_has(Course.certifinfos, sa.bindparam(name, type_=sa.String),
                                  prefix=False, dialect=dialect)
        case "formacode":
            return _code_list_has(Course.formacodes, sa.bindparam(name, type_=sa.String),
                                  prefix=True, dialect=dialect)
        case "commented":
            return _shown()
        case "uncommented":
            return sa.not_(_shown())
    raise ValueError(name)


def _shown() -> Any:
    # Every answer read is from a public session: the rest of ``is_shown`` decides. The
    # first day not archived is a parameter: statements are kept from day to day.
    return is_shown_if_public(window=sa.bindparam("window", type_=sa.Date))


def review_filters(values: dict[str, Any]) -> ReviewFilters:
    """The conditions of a review list from API parameters. That the answers are from
    public sessions is ``reviews``'s own condition."""
    filters = ReviewFilters()
    siret = values.get("organisme_formateur")
    if siret and len(siret) == 14:
        # The body's id first (its unique SIRET): the answers are then read in list order
        # off their index by body, and no join to the bodies is needed.
        body_id = db.session.scalar(sa.select(TrainingBody.id).where(TrainingBody.siret == siret))
        if body_id is None:
            filters.nothing = True
        filters.add("body", body_id)
    elif siret:
        filters.add("siren", siret)  # a SIREN: the SIRETs starting with it
    for name, parameter in (("postcode", "lieu_de_formation"), ("certif_info", "certif_info"),
                            ("formacode", "formacode")):
        if values.get(parameter):
            filters.add(name, values[parameter])
    if values.get("commentaires") is True:
        filters.add("commented")
    elif values.get("commentaires") is False:
        filters.add("uncommented")
    return filters


def _review_select() -> Any:
    shown = _shown()
    reply_shown = sa.and_(Reply.answer_id == Answer.id, Reply.status.in_(shown_statuses()))
    return (
        sa.select(Answer.id, Answer.answered_on, *(getattr(Answer, d) for d in DIMENSIONS),
                  Answer.overall, sa.case((shown, Answer.comment_title)).label("title"),
                  sa.case((shown, Answer.comment_text)).label("text"),
                  sa.case((shown, Reply.text)).label("reply"),
                  Course.numero.label("course_numero"), Course.title.label("course_title"),
                  Course.formacodes, Course.certifinfos,
                  Action.numero.label("action_numero"), Session.postcode, Session.city,
                  Session.funders, TrainingBody.name.label("body_name"), TrainingBody.siret,
                  Session.numero.label("session_numero"), Session.start_date,
                  Session.end_date)
        .select_from(Answer)
        .join(Session, Session.id == Answer.session_id)
        .join(Action, Action.id == Answer.action_id)
        .join(Course, Course.id == Answer.course_id)
        .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
        .outerjoin(Reply, reply_shown)
        .where(from_public_session())
    )


def _row(found: Any) -> ReviewRow:
    return ReviewRow(
        id=found.id, answered_on=found.answered_on,
        marks={d: getattr(found, d) for d in DIMENSIONS}, overall=found.overall,
        comment_title=found.title, comment_text=found.text, reply=found.reply,
        course_numero=found.course_numero, course_title=found.course_title,
        formacodes=found.formacodes or [], certifinfos=found.certifinfos or [],
        action_numero=found.action_numero, postcode=found.postcode, city=found.city,
        funders=found.funders or [], body_name=found.body_name, body_siret=found.siret,
        session_numero=found.session_numero, start_date=found.start_date,
        end_date=found.end_date)


#: The tables an answer's conditions may name besides ``answers``, and how to join them.
_JOINS = ((Session.__table__, Session.id == Answer.session_id),
          (Action.__table__, Action.id == Answer.action_id),
          (Course.__table__, Course.id == Answer.course_id),
          (TrainingBody.__table__, TrainingBody.id == Answer.training_body_id))

#: (count, page) statements by (database, condition names, shown statuses, sort, order).
_STATEMENTS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _statements(names: tuple[str, ...], sort: str, order: str) -> tuple[Any, Any]:
    dialect = db.session.get_bind().dialect.name
    key = (dialect, names, tuple(shown_statuses()), sort, order)
    if key not in _STATEMENTS:
        conditions = [_condition(name, dialect) for name in names]
        # Counted per session, then each session looked up once in the scores (hundreds
        # of lookups for a large body, not thousands); joined only to the tables the
        # conditions name. The index of a body's reviews holds the session.
        named = {table for condition in conditions
                 for table in sql_util.find_tables(condition, check_columns=True)}
        per_session = sa.select(Answer.session_id, sa.func.count().label("n"))
        for table, on in _JOINS:
            if table in named:
                per_session = per_session.join(table, on)
        counted = (per_session.where(Answer.excluded_reason.is_(None), *conditions)
                   .group_by(Answer.session_id).subquery())
        count = (sa.select(sa.func.coalesce(sa.func.sum(counted.c.n), 0))
                 .where(is_public_session(counted.c.session_id)))
        direction = sa.desc if order == "desc" else sa.asc
        keys = [direction(c) for c in _ORDER[sort]] + [direction(Answer.id)]
        page = (_review_select().where(*conditions).order_by(*keys)
                .limit(sa.bindparam("limit", type_=sa.Integer))
                .offset(sa.bindparam("offset", type_=sa.Integer)))
        _STATEMENTS[key] = (count, page)
    return _STATEMENTS[key]


def reviews(filters: ReviewFilters, *, sort: str, order: str, limit: int,
            offset: int) -> tuple[int, list[ReviewRow]]:
    """The number of answers of public sessions matching ``filters``, and the page asked
    for."""
    if filters.nothing:
        return 0, []
    count, page = _statements(tuple(filters.names), sort, order)
    values = {**filters.values, "window": review_window_start()}
    total = int(db.session.scalar(count, values) or 0)
    if not limit or offset >= total:
        return total, []
    found = db.session.execute(page, {**values, "limit": limit, "offset": offset})
    return total, [_row(r) for r in found]


#: The statement of one review, by shown statuses.
_SINGLE: dict[tuple[Any, ...], Any] = {}


def review(answer_id: int) -> ReviewRow | None:
    key = tuple(shown_statuses())
    if key not in _SINGLE:
        _SINGLE[key] = _review_select().where(Answer.id == sa.bindparam("id"))
    found = db.session.execute(_SINGLE[key], {"id": answer_id,
                                              "window": review_window_start()}).first()
    return _row(found) if found is not None else None


# --- training bodies ------------------------------------------------------------


def body_filters(values: dict[str, Any]) -> list[Any]:
    """Training bodies only (those teaching a course), filtered."""
    teaching = sa.select(Action.training_body_id)
    conditions: list[Any] = [TrainingBody.id.in_(teaching)]
    if values.get("siret"):
        conditions.append(TrainingBody.siret == values["siret"])
    if values.get("numero"):
        # ANOTEA's own organisation numbers are not in our catalogue.
        conditions.append(sa.false())
    place = values.get("lieu_de_formation")
    if place:
        column = Session.postcode if len(place) == 5 else Session.region_code
        conditions.append(TrainingBody.id.in_(
            sa.select(Action.training_body_id).join(Session, Session.action_id == Action.id)
            .where(column == place)))
    if values.get("nb_avis"):
        conditions.append(TrainingBody.id.in_(
            sa.select(sa.cast(Score.key, sa.Integer)).where(
                Score.scope == ScoreScope.body,
                Score.answers_count >= values["nb_avis"])))
    return conditions


def bodies(conditions: list[Any], *, limit: int, offset: int
           ) -> tuple[int, list[TrainingBody]]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(TrainingBody)
                              .where(*conditions)) or 0
    if not limit or offset >= total:
        return total, []
    found = db.session.scalars(sa.select(TrainingBody).where(*conditions)
                               .order_by(TrainingBody.siret).limit(limit).offset(offset))
    return total, list(found)


def places(body_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """(postcode, city, region code) of each body's sessions."""
    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    if not body_ids:
        return found
    for body_id, postcode, city, region in db.session.execute(
            sa.select(Action.training_body_id, Session.postcode, Session.city,
                      Session.region_code).distinct()
            .join(Action, Action.id == Session.action_id)
            .where(among(Action.training_body_id, body_ids))
            .order_by(Action.training_body_id, Session.postcode, Session.city)):
        found[body_id].append((postcode, city, region))
    return found


def extremes(body_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Lowest and highest ``overall`` of each body's answers (ANOTEA's aggregation), those
    that count in the scores: not excluded. Read off the index of a body's reviews alone."""
    if not body_ids:
        return {}
    return {body_id: (float(low), float(high)) for body_id, low, high in db.session.execute(
        sa.select(Answer.training_body_id, sa.func.min(Answer.overall),
                  sa.func.max(Answer.overall))
        .where(among(Answer.training_body_id, body_ids), Answer.excluded_reason.is_(None))
        .group_by(Answer.training_body_id))}


def min_reviews() -> int:
    return int(current_app.config["MIN_REVIEWS_FOR_SCORE"])


def is_training_body(body_id: int) -> bool:
    return db.session.scalar(sa.select(Action.id).where(
        Action.training_body_id == body_id).limit(1)) is not None
