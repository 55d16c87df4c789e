"""Read-only queries behind the home page."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from avis.catalog.geo import DEPARTEMENT_NAMES
from avis.public.models import SearchTerm
from avis.public.search import departement_tag
from avis.scores.models import Score, ScoreScope

_TAG = departement_tag("")


@dataclass(frozen=True)
class DepartementFigures:
    code: str
    name: str
    #: bodies teaching in the département
    training_bodies: int
    #: end-of-training answers about sessions held there
    answers: int
    #: their plain mean (None without answers)
    mean_overall: float | None


def figures_by_departement(db_session: DbSession) -> list[DepartementFigures]:
    """Bodies and reviews per département of the place of training.

    Read from the search index's tags and the département scores: a range of an index
    and a few dozen rows, never a scan of sessions or enrolments on a page view."""
    bodies = dict(db_session.execute(
        sa.select(SearchTerm.term, sa.func.count())
        .where(SearchTerm.term >= _TAG, SearchTerm.term < _TAG[:-1] + ";")
        .group_by(SearchTerm.term)).all())
    scores = {score.key: score for score in db_session.scalars(
        sa.select(Score).where(Score.scope == ScoreScope.departement))}
    codes = {tag[len(_TAG):].upper() for tag in bodies} | set(scores)
    return [
        DepartementFigures(
            code=code, name=DEPARTEMENT_NAMES.get(code, code),
            training_bodies=bodies.get(departement_tag(code), 0),
            answers=scores[code].answers_count if code in scores else 0,
            mean_overall=scores[code].mean_overall if code in scores else None)
        for code in sorted(codes)
    ]
