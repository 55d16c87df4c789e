"""The public lookup: a word index of training bodies, and the search over it.

Words are lower-cased and unaccented; a query word finds every indexed word it
begins ("nant" finds Nantes, "44" every postcode of Loire-Atlantique, a SIREN its
establishments' SIRETs). Every word of a query must match (AND); the filters are
tags of the same index (``dep:44``, ``fin:2``). Each word reads one range of the
primary key's index, so a search costs a few index ranges whatever the number of
bodies — never a scan of the catalogue.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import among, db, insert_skipping_conflicts
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


@functools.lru_cache(maxsize=65536)
def _catalogue_words(text: str | None) -> tuple[str, ...]:
    # The catalogue repeats its cities and course titles over thousands of sessions.
    return tuple(words(text))


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
            .where(among(TrainingBody.id, body_ids))):
        terms[body_id].update(_catalogue_words(name))
        terms[body_id].add(siret)
    for body_id, title, formacodes in db.session.execute(
            sa.select(Action.training_body_id, Course.title, _as_text(Course.formacodes))
            .distinct()
            .join(Course, Course.id == Action.course_id)
            .where(among(Action.training_body_id, body_ids))):
        terms[body_id].update(_catalogue_words(title))
        terms[body_id].update(_json_list(formacodes))
    for body_id, city, postcode, departement, funders in db.session.execute(
            sa.select(Action.training_body_id, Session.city, Session.postcode,
                      Session.departement, _as_text(Session.funders)).distinct()
            .join(Action, Action.id == Session.action_id)
            .where(among(Action.training_body_id, body_ids))):
        terms[body_id].update(_catalogue_words(city))
        terms[body_id].add(postcode)
        terms[body_id].add(departement_tag(departement))
        terms[body_id].update(funder_tag(code) for code in _json_list(funders))
    return terms


def _as_text(column: Any) -> Any:
    # Read as text and decoded once per distinct value (a few hundred code lists over
    # hundreds of thousands of sessions) rather than by the driver for every row.
    return sa.cast(column, sa.Text())


@functools.lru_cache(maxsize=4096)
def _json_list(text: str | None) -> tuple[Any, ...]:
    return tuple(json.loads(text) or ()) if text else ()


def rebuild_index() -> dict[str, int]:
    """Bring the index in line with the catalogue; writes only the differences, batch
    by batch of bodies, and commits. Returns the terms added and removed."""
    return _index(list(db.session.scalars(
        sa.select(TrainingBody.id).order_by(TrainingBody.id))))


def index_changes_since(since: dt.datetime) -> dict[str, int]:
    """After an import: bring in line the bodies whose own row, actions, sessions or
    courses were written at ``since`` or later (imports stamp every row they insert or
    change), and commit. A re-import that changed nothing reads four columns and writes
    nothing. Terms a body lost because an action moved to another body go at the next
    hourly ``rebuild_index``: what an import adds is searchable at once."""
    touched = sa.union(
        sa.select(TrainingBody.id).where(TrainingBody.updated_dt >= since),
        sa.select(Action.training_body_id).where(Action.updated_dt >= since),
        sa.select(Action.training_body_id).join(Session, Session.action_id == Action.id)
        .where(Session.updated_dt >= since),
        sa.select(Action.training_body_id).join(Course, Course.id == Action.course_id)
        .where(Course.updated_dt >= since),
    ).subquery()
    return _index(sorted(db.session.scalars(sa.select(touched.c[0]))))


def _index(body_ids: list[int]) -> dict[str, int]:
    added = removed = 0
    for start in range(0, len(body_ids), BATCH):
        batch = body_ids[start:start + BATCH]
        wanted = {(term, body_id) for body_id, terms in _body_terms(batch).items()
                  for term in terms}
        present = {(term, body_id) for term, body_id in db.session.execute(
            sa.select(SearchTerm.term, SearchTerm.training_body_id)
            .where(among(SearchTerm.training_body_id, batch)))}
        stale = present - wanted
        if stale:
            table = SearchTerm.__table__
            db.session.execute(
                table.delete().where(table.c.term == sa.bindparam("t"),
                                     table.c.training_body_id == sa.bindparam("b")),
                [{"t": term, "b": body_id} for term, body_id in sorted(stale)])
        missing = sorted(wanted - present)
        if missing:
            _insert_terms(missing)
        added += len(missing)
        removed += len(stale)
    db.session.commit()
    return {"added": added, "removed": removed}


def _insert_terms(pairs: list[tuple[str, int]]) -> None:
    # Another process (two imports at once) may have added some meanwhile: skipped.
    insert = insert_skipping_conflicts(SearchTerm.__table__)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two array parameters rather than one row of parameters per term: a first
        # import adds ~550,000 terms, which executemany sends one by one.
        source = sa.select(
            sa.func.unnest(sa.bindparam("terms", [t for t, _b in pairs],
                                        type_=postgresql.ARRAY(sa.Text()))).label("term"),
            sa.func.unnest(sa.bindparam("bodies", [b for _t, b in pairs],
                                        type_=postgresql.ARRAY(sa.BigInteger()))).label("body"),
        ).subquery()
        db.session.execute(insert.from_select(["term", "training_body_id"],
                                              sa.select(source.c.term, source.c.body)))
        return
    db.session.execute(insert, [{"term": t, "training_body_id": b} for t, b in pairs])


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
