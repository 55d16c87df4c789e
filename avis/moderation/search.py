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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql import operators

from avis.db import db

#: The items a count walks after the page, at most. A word in one comment in five finds
#: there the 980 matches a first page's count still needs; a rarer word spends this walk
#: (~10 ms on PostgreSQL) in vain before the whole tab is counted.
PREFIX_ROWS = 6000


@dataclass(frozen=True)
class Prefix:
    """Matches among at most ``PREFIX_ROWS`` items, as far as those items tell."""

    #: the keys of the matches among those items, in the tab's order (at most as many as
    #: were wanted)
    keys: list[sa.Row]
    #: those items were all there were: ``keys`` are every match (up to the number wanted)
    whole: bool

    def settles(self, count: int) -> bool:
        """Whether the first ``count`` matches (or all, when fewer) are known."""
        return self.whole or len(self.keys) >= count


def pattern(words: str) -> str:
    """``words`` anywhere, as a LIKE pattern escaped with a backslash."""
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matches(columns: Sequence[sa.ColumnElement[str | None]], words: str
            ) -> sa.ColumnElement[bool]:
    """Any of ``columns`` holds ``words``, whatever the case."""
    found = pattern(words)
    return sa.or_(*(column.ilike(found, escape="\\") for column in columns))


def first_matches(unsearched: sa.Select, *, keys: Sequence[sa.ColumnElement[int]],
                  order: Sequence[sa.ColumnElement[object]],
                  searched: Sequence[sa.ColumnElement[str | None]], words: str,
                  wanted: int) -> Prefix:
    """At most ``wanted`` keys of the items of ``unsearched`` whose ``searched`` columns
    hold ``words``, among its first ``PREFIX_ROWS`` items in ``order`` (its columns, some
    of them ``.desc()``)."""
    columns = [*(key.label(f"key_{n}") for n, key in enumerate(keys)),
               *(unordered(column).label(f"order_{n}") for n, column in enumerate(order)),
               *(column.label(f"searched_{n}") for n, column in enumerate(searched))]
    prefix = (unsearched.with_only_columns(*columns).order_by(*order)
              .limit(PREFIX_ROWS).subquery("prefix"))
    again = [prefix.c[f"order_{n}"].desc() if _descending(column) else prefix.c[f"order_{n}"]
             for n, column in enumerate(order)]
    found = db.session.execute(
        sa.select(*(prefix.c[f"key_{n}"] for n in range(len(keys))))
        .where(matches([prefix.c[f"searched_{n}"] for n in range(len(searched))], words))
        .order_by(*again).limit(wanted)).all()
    if len(found) >= wanted:
        return Prefix(found, whole=False)
    # Fewer than wanted: every match there is, if nothing lies beyond those items.
    beyond = db.session.scalar(unsearched.with_only_columns(sa.literal(1)).order_by(*order)
                               .offset(PREFIX_ROWS).limit(1))
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
