"""Words searched in the moderation queue, and a search's count without reading every
comment that has the word.

A tab's count is capped (``views.COUNT_CAP``). For a word in one comment in five, the
plain capped count read all 40,000 matches through the trigram index: PostgreSQL
estimates ``ILIKE '%…%'`` poorly, so it will not walk the tab's ordered index instead
and stop at the thousand-and-first. The page's query has already found the matches up
to the end of the page, in order; the count only needs the next ones. So it walks on
from the page's last item in the tab's order, at most ``PREFIX_ROWS`` items (a subquery
with its LIMIT, which PostgreSQL cannot flatten), and searches them outside that LIMIT:
a common word finds there what the cap still needs. When it does not (a rarer word),
the caller counts the whole tab as before, which the trigram index makes quick for a
rare word. Walking from the tab's first item instead would walk again what the page's
query walked: in the benchmark's queue, 11,500 comments without the word come first.

The page is walked for the same way, from the tab's first item, at most ``PAGE_ROWS``
items; when its matches are not all among them (a rare word), the page's plain query
follows, as before. Those walks read lowered copies of the comment's title and text that
the database computes (``Answer.comment_title_lower``…), with LIKE and the word lowered
by the same ``lower()``: ILIKE lowered each of the 11,700 texts walked, 17 ms a page.
On PostgreSQL an index of the waiting comments in queue order holds the copies, so that
the walk reads that index alone (an index-only scan: 3 ms for the benchmark's first
page, 2–4 ms for its count). The plain queries keep ILIKE on the texts themselves, which
the trigram index serves; a search on the copies would not let it (a rare word's page
read every waiting comment: 250 ms). Why both walks are a subquery with a LIMIT: with
the copies' condition PostgreSQL would otherwise choose its plan from its poor estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql import operators

from avis.db import db
from avis.surveys.models.answers import Answer

#: The items a count walks after the page, at most. A word in one comment in five finds
#: there the 980 matches a first page's count still needs; a rarer word spends this walk
#: (~10 ms on PostgreSQL) in vain before the whole tab is counted.
PREFIX_ROWS = 6000
#: The items a page's query walks, at most, before it leaves the search to the planner
#: (ILIKE, which the trigram index serves): the benchmark's word, after the 11,500
#: comments without it that come first, is found within 11,700 (3 ms on PostgreSQL,
#: index only); a rare word spends this walk (5–10 ms) in vain.
PAGE_ROWS = 20_000


@dataclass(frozen=True)
class Prefix:
    """Matches among the first items of a tab, as far as those items tell."""

    #: the keys and order values of the matches among those items, in the tab's order
    #: (at most as many as were wanted)
    rows: list[sa.Row]
    #: those items were all there were: ``rows`` are every match (up to the number wanted)
    whole: bool

    def settles(self, count: int) -> bool:
        """Whether the first ``count`` matches (or all, when fewer) are known."""
        return self.whole or len(self.rows) >= count


@dataclass(frozen=True)
class Searched:
    """A text a word is looked for in."""

    #: the text as written
    column: sa.ColumnElement[str | None]
    #: its copy lowered by the database (``Answer.comment_title_lower``…), if any
    lowered: sa.ColumnElement[str | None] | None = None
    #: the id of the answer the text is of, when the copy is null for a text too long to
    #: copy: the text is then read whole by that id
    answer_id: sa.ColumnElement[int] | None = None


def pattern(words: str) -> str:
    """``words`` anywhere, as a LIKE pattern escaped with a backslash."""
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matches(searched: Sequence[Searched], words: str) -> sa.ColumnElement[bool]:
    """Any of the texts holds ``words``, whatever the case: ILIKE on the texts themselves,
    which the trigram index serves (a count over a whole tab)."""
    found = pattern(words)
    return sa.or_(*(text.column.ilike(found, escape="\\") for text in searched))


def walked_matches(searched: Sequence[Searched], words: str) -> sa.ColumnElement[bool]:
    """The same rows as ``matches``, for a walk in queue order: LIKE on the lowered copies
    with the word lowered by the same ``lower()``, which is what ILIKE does (PostgreSQL's
    ILIKE on UTF-8 is ``lower(text) LIKE lower(pattern)``, SQLAlchemy's on SQLite too),
    without lowering each text walked; and an index holding the copies answers alone.
    A text too long for its copy is read whole, by its answer's id in a subquery: the
    walk itself still reads nothing but the index."""
    found = pattern(words)
    lowered = sa.func.lower(found)
    tests = []
    for text in searched:
        if text.lowered is None:
            tests.append(text.column.ilike(found, escape="\\"))
            continue
        tests.append(text.lowered.like(lowered, escape="\\"))
        if text.answer_id is not None:
            tests.append(sa.and_(text.lowered.is_(None),
                                 _whole_text(text.answer_id).ilike(found, escape="\\")))
    return sa.or_(*tests)


#: The answers once more, for ``_whole_text`` (a table's alias: cheap to build on, where
#: an ORM alias of ``Answer`` took 4 ms a page to make).
_WHOLE = Answer.__table__.alias("whole")


def _whole_text(answer_id: sa.ColumnElement[int]) -> sa.ColumnElement[str | None]:
    """The comment text of that answer (a correlated subquery, run only for the texts
    whose copy is null)."""
    return (sa.select(_WHOLE.c.comment_text).where(_WHOLE.c.id == answer_id)
            .scalar_subquery())


def first_matches(unsearched: sa.Select, *, keys: Sequence[sa.ColumnElement[int]],
                  order: Sequence[sa.ColumnElement[object]], searched: Sequence[Searched],
                  words: str, wanted: int, items: int | None = None, skip: int = 0
                  ) -> Prefix:
    """At most ``wanted`` keys (then order values) of the items of ``unsearched`` whose
    ``searched`` texts hold ``words``, after the first ``skip`` of them, among its first
    ``items`` (``PREFIX_ROWS``) in ``order`` (its columns, some of them ``.desc()``)."""
    items = items or PREFIX_ROWS
    # The items walked carry the lowered copies (or the texts without one) and the
    # answer's id where a copy may be null: what ``walked_matches`` reads.
    columns = [*(key.label(f"key_{n}") for n, key in enumerate(keys)),
               *(unordered(column).label(f"order_{n}") for n, column in enumerate(order)),
               *((text.column if text.lowered is None else text.lowered).label(f"searched_{n}")
                 for n, text in enumerate(searched)),
               *(text.answer_id.label(f"answer_{n}") for n, text in enumerate(searched)
                 if text.answer_id is not None)]
    prefix = (unsearched.with_only_columns(*columns).order_by(*order)
              .limit(items).subquery("prefix"))
    again = [prefix.c[f"order_{n}"].desc() if _descending(column) else prefix.c[f"order_{n}"]
             for n, column in enumerate(order)]
    walked = [Searched(prefix.c[f"searched_{n}"],
                       None if text.lowered is None else prefix.c[f"searched_{n}"],
                       None if text.answer_id is None else prefix.c[f"answer_{n}"])
              for n, text in enumerate(searched)]
    found = db.session.execute(
        sa.select(*(prefix.c[f"key_{n}"] for n in range(len(keys))),
                  *(prefix.c[f"order_{n}"] for n in range(len(order))))
        .where(walked_matches(walked, words))
        .order_by(*again).offset(skip).limit(wanted)).all()
    if len(found) >= wanted:
        return Prefix(found, whole=False)
    # Fewer than wanted: every match there is, if nothing lies beyond those items.
    beyond = db.session.scalar(unsearched.with_only_columns(sa.literal(1)).order_by(*order)
                               .offset(items).limit(1))
    return Prefix(found, whole=beyond is None)


def after(order: Sequence[sa.ColumnElement[object]], values: Sequence[object]
          ) -> sa.ColumnElement[bool]:
    """The items that come after ``values`` in ``order``: a row comparison, which an
    index in that order starts at. Its columns must all go the same way and never be
    null (a null compares as unknown)."""
    plain = sa.tuple_(*(unordered(column) for column in order))
    descending = {_descending(column) for column in order}
    assert len(descending) == 1, "a row comparison goes one way"
    return plain < tuple(values) if descending.pop() else plain > tuple(values)


def _descending(column: sa.ColumnElement[object]) -> bool:
    return getattr(column, "modifier", None) is operators.desc_op


def unordered(column: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
    """An ORDER BY's column without its direction."""
    return column.element if _descending(column) else column  # type: ignore[attr-defined]
