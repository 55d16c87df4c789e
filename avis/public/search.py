"""The public lookup: a word index of training bodies, and the search over it.

Words are lower-cased and unaccented; a query word finds every indexed word it
begins ("nant" finds Nantes, "44" every postcode of Loire-Atlantique, a SIREN its
establishments' SIRETs). Every word of a query must match (AND); the filters are
tags of the same index (``dep:44``, ``fin:2``). Each word reads one range of the
primary key's index, so a search costs a few index ranges whatever the number of
bodies — never a scan of the catalogue.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db, insert_skipping_conflicts
from avis.public.models import SearchTerm
from avis.scores.models import Score, ScoreScope

#: Results per page.
PAGE_SIZE = 20
#: Query words beyond this are ignored (a pasted paragraph still gives an answer).
MAX_WORDS = 8
#: Longest term kept (the column's width).
MAX_TERM = 40
#: Bodies per rebuild batch.
BATCH = 2000

#: Words too common to tell bodies apart; a query made only of them searches nothing.
STOP_WORDS = frozenset({
    "au", "aux", "avec", "dans", "de", "des", "du", "en", "et", "la", "le", "les", "leur",
    "par", "pour", "sa", "se", "ses", "sur", "un", "une",
})

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str | None) -> list[str]:
    """The index words of ``text``: lower case, accents and punctuation removed, stop
    words and single letters dropped, in order and without repeats."""
    if not text:
        return []
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    seen: dict[str, None] = {}
    for word in _WORD.findall(plain):
        if (len(word) > 1 or word.isdigit()) and word not in STOP_WORDS:
            seen.setdefault(word[:MAX_TERM], None)
    return list(seen)


def departement_tag(code: str) -> str:
    return f"dep:{code.lower()}"


def funder_tag(code: int) -> str:
    return f"fin:{code}"


# --- the index ------------------------------------------------------------------


def _body_terms(body_ids: list[int]) -> dict[int, set[str]]:
    """What should be indexed for each of ``body_ids``, from the catalogue."""
    terms: dict[int, set[str]] = defaultdict(set)
    for body_id, name, siret in db.session.execute(
            sa.select(TrainingBody.id, TrainingBody.name, TrainingBody.siret)
            .where(TrainingBody.id.in_(body_ids))):
        terms[body_id].update(words(name))
        terms[body_id].add(siret)
    for body_id, title, formacodes in db.session.execute(
            sa.select(Action.training_body_id, Course.title, Course.formacodes).distinct()
            .join(Course, Course.id == Action.course_id)
            .where(Action.training_body_id.in_(body_ids))):
        terms[body_id].update(words(title))
        terms[body_id].update(formacodes or ())
    for body_id, city, postcode, departement, funders in db.session.execute(
            sa.select(Action.training_body_id, Session.city, Session.postcode,
                      Session.departement, Session.funders).distinct()
            .join(Action, Action.id == Session.action_id)
            .where(Action.training_body_id.in_(body_ids))):
        terms[body_id].update(words(city))
        terms[body_id].add(postcode)
        terms[body_id].add(departement_tag(departement))
        terms[body_id].update(funder_tag(code) for code in funders or ())
    return terms


def rebuild_index() -> dict[str, int]:
    """Bring the index in line with the catalogue; writes only the differences, batch
    by batch of bodies, and commits. Returns the terms added and removed."""
    added = removed = 0
    body_ids = list(db.session.scalars(sa.select(TrainingBody.id).order_by(TrainingBody.id)))
    for start in range(0, len(body_ids), BATCH):
        batch = body_ids[start:start + BATCH]
        wanted = {(term, body_id) for body_id, terms in _body_terms(batch).items()
                  for term in terms}
        present = {(term, body_id) for term, body_id in db.session.execute(
            sa.select(SearchTerm.term, SearchTerm.training_body_id)
            .where(SearchTerm.training_body_id.in_(batch)))}
        stale = present - wanted
        if stale:
            table = SearchTerm.__table__
            db.session.execute(
                table.delete().where(table.c.term == sa.bindparam("t"),
                                     table.c.training_body_id == sa.bindparam("b")),
                [{"t": term, "b": body_id} for term, body_id in sorted(stale)])
        missing = [{"term": term, "training_body_id": body_id}
                   for term, body_id in sorted(wanted - present)]
        if missing:
            # Another process (two imports at once) may have added some meanwhile.
            db.session.execute(insert_skipping_conflicts(SearchTerm.__table__), missing)
        added += len(missing)
        removed += len(stale)
    db.session.commit()
    return {"added": added, "removed": removed}


# --- the search -----------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a person searches: free text, filters, page; normalised."""

    text: str
    departement: str | None = None
    funder: int | None = None
    page: int = 1

    @property
    def words(self) -> list[str]:
        return words(self.text)[:MAX_WORDS]

    @property
    def tags(self) -> list[str]:
        tags = []
        if self.departement:
            tags.append(departement_tag(self.departement))
        if self.funder is not None:
            tags.append(funder_tag(self.funder))
        return tags

    @property
    def is_empty(self) -> bool:
        """Nothing asked: the home page, not a search (``%_`` is a search, finding
        nothing)."""
        return not self.text.strip() and not self.tags


@dataclass(frozen=True)
class Result:
    """One body found, with what the results list shows of it."""

    id: int
    siret: str
    name: str
    answers_count: int
    has_score: bool
    fair_score: float | None
    places: list[str]


@dataclass(frozen=True)
class Results:
    query: Query
    total: int
    items: list[Result]

    @property
    def pages(self) -> int:
        return math.ceil(self.total / PAGE_SIZE)


def _upper_bound(word: str) -> str:
    """The smallest string after every word starting with ``word`` (words are ASCII
    letters and digits, compared byte by byte: "C" collation on PostgreSQL)."""
    return word[:-1] + chr(ord(word[-1]) + 1)


def _matching(query: Query) -> Any:
    """The ids of the bodies matching every word and every tag, once each (a prefix
    may match several words of the same body)."""
    parts: list[Any] = [
        sa.select(SearchTerm.training_body_id.label("id"))
        .where(SearchTerm.term >= word, SearchTerm.term < _upper_bound(word))
        for word in query.words
    ]
    parts += [sa.select(SearchTerm.training_body_id.label("id")).where(SearchTerm.term == tag)
              for tag in query.tags]
    return parts[0].distinct() if len(parts) == 1 else sa.intersect(*parts)


def search(query: Query) -> Results:
    """One page of the bodies matching ``query``: those with a score first, the best
    fair score first, then by number of answers, then the oldest in the catalogue.

    Ranked from the matching ids and their scores alone (index look-ups), then the
    page's bodies read by primary key: no join with the whole catalogue."""
    if not query.words and not query.tags:
        return Results(query, 0, [])
    matching = _matching(query).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(matching)) or 0
    offset = (query.page - 1) * PAGE_SIZE
    if offset >= total:
        return Results(query, total, [])
    has_score = sa.func.coalesce(Score.has_score & Score.is_public, sa.false())
    answers = sa.func.coalesce(Score.answers_count, 0)
    ranked = db.session.execute(
        sa.select(matching.c.id, has_score, Score.fair_score, answers)
        .select_from(matching)
        .outerjoin(Score, sa.and_(Score.scope == ScoreScope.body,
                                  Score.key == sa.cast(matching.c.id, sa.String)))
        .order_by(has_score.desc(), sa.func.coalesce(Score.fair_score, 0).desc(),
                  answers.desc(), matching.c.id)
        .limit(PAGE_SIZE).offset(offset)).all()
    ids = [row[0] for row in ranked]
    bodies = {row.id: row for row in db.session.execute(
        sa.select(TrainingBody.id, TrainingBody.siret, TrainingBody.name)
        .where(TrainingBody.id.in_(ids)))}
    places = places_of(ids)
    items = [Result(id=body_id, siret=bodies[body_id].siret, name=bodies[body_id].name,
                    answers_count=count, has_score=bool(scored), fair_score=fair,
                    places=places.get(body_id, []))
             for body_id, scored, fair, count in ranked]
    return Results(query, total, items)


def places_of(body_ids: Iterable[int], limit: int = 3) -> dict[int, list[str]]:
    """Up to ``limit`` places (city and postcode) of each body, most sessions first."""
    ids = list(body_ids)
    if not ids:
        return {}
    counted = db.session.execute(
        sa.select(Action.training_body_id, Session.city, Session.postcode,
                  sa.func.count().label("n"))
        .join(Action, Action.id == Session.action_id)
        .where(Action.training_body_id.in_(ids))
        .group_by(Action.training_body_id, Session.city, Session.postcode)
        .order_by(Action.training_body_id, sa.desc("n"), Session.city))
    places: dict[int, list[str]] = defaultdict(list)
    for body_id, city, postcode, _n in counted:
        if len(places[body_id]) < limit:
            places[body_id].append(f"{city} ({postcode})")
    return dict(places)
