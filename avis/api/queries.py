"""Read queries of API v1. Reviews are the answers of sessions large enough to be shown
one by one; a comment (and the body's reply) only when published."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis.api.documents import ReviewRow
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.public.reviews import from_public_session, is_shown, shown_statuses
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer, Reply

_ORDER = {"date": (Answer.answered_on,), "notes": (Answer.overall,),
          "formation": (Course.title,)}


def _code_list_has(column: Any, value: str, *, prefix: bool) -> Any:
    """SQL condition: the JSON list of codes ``column`` holds ``value`` (or a code that
    starts with it: a formacode domain, anchored at the start)."""
    if db.session.get_bind().dialect.name == "postgresql":
        element = sa.func.jsonb_array_elements_text(column).table_valued("value").alias("c")
    else:
        element = sa.func.json_each(column).table_valued("value").alias("c")
    test = element.c.value.like(f"{value}%") if prefix else element.c.value == value
    return sa.exists(sa.select(1).select_from(element).where(test))


def review_filters(values: dict[str, Any]) -> list[Any]:
    conditions: list[Any] = [from_public_session()]
    siret = values.get("organisme_formateur")
    if siret:
        # A whole SIRET by equality (its unique index); a SIREN as a prefix.
        conditions.append(TrainingBody.siret == siret if len(siret) == 14
                          else TrainingBody.siret.startswith(siret))
    if values.get("lieu_de_formation"):
        conditions.append(Session.postcode == values["lieu_de_formation"])
    if values.get("certif_info"):
        conditions.append(_code_list_has(Course.certifinfos, values["certif_info"],
                                         prefix=False))
    if values.get("formacode"):
        conditions.append(_code_list_has(Course.formacodes, values["formacode"], prefix=True))
    if values.get("commentaires") is True:
        conditions.append(is_shown())
    elif values.get("commentaires") is False:
        conditions.append(sa.not_(is_shown()))
    return conditions


def _review_select() -> Any:
    shown = is_shown()
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


def reviews(conditions: list[Any], *, sort: str, order: str, limit: int,
            offset: int) -> tuple[int, list[ReviewRow]]:
    """The number of reviews matching, and the page asked for."""
    base = (sa.select(sa.func.count()).select_from(Answer)
            .join(Session, Session.id == Answer.session_id)
            .join(Course, Course.id == Answer.course_id)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .where(*conditions))
    total = db.session.scalar(base) or 0
    if not limit or offset >= total:
        return total, []
    direction = sa.desc if order == "desc" else sa.asc
    keys = [direction(c) for c in _ORDER[sort]] + [direction(Answer.id)]
    found = db.session.execute(_review_select().where(*conditions).order_by(*keys)
                               .limit(limit).offset(offset))
    return total, [_row(r) for r in found]


def review(answer_id: int) -> ReviewRow | None:
    found = db.session.execute(_review_select().where(
        Answer.id == answer_id, from_public_session())).first()
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
            .where(Action.training_body_id.in_(body_ids))
            .order_by(Action.training_body_id, Session.postcode, Session.city)):
        found[body_id].append((postcode, city, region))
    return found


def extremes(body_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Lowest and highest ``overall`` of each body's answers (ANOTEA's aggregation)."""
    if not body_ids:
        return {}
    return {body_id: (float(low), float(high)) for body_id, low, high in db.session.execute(
        sa.select(Answer.training_body_id, sa.func.min(Answer.overall),
                  sa.func.max(Answer.overall))
        .where(Answer.training_body_id.in_(body_ids))
        .group_by(Answer.training_body_id))}


def min_reviews() -> int:
    return int(current_app.config["MIN_REVIEWS_FOR_SCORE"])


def is_training_body(body_id: int) -> bool:
    return db.session.scalar(sa.select(Action.id).where(
        Action.training_body_id == body_id).limit(1)) is not None
