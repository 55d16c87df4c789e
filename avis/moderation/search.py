"""Words searched in the moderation queue, without reading every comment that has them.

A word found in one comment in five made each tab's capped count, and the page, read
all its matches through the trigram index (40,000 rows among 200,000 comments
awaiting), then throw away all but the first thousand: PostgreSQL estimates
``ILIKE '%…%'`` poorly, so it will not walk the tab's own ordered index instead, which
would stop at the thousandth match. So the walk is written out: the tab's first
``PREFIX_ROWS`` items, in the tab's order (a subquery with its LIMIT, which PostgreSQL
cannot flatten), searched outside that LIMIT. Their matches are the tab's first matches,
in order; when they are enough — a thousand and one for a capped count, the rows up to
the end of a page for the page — nothing else is read. When they are not (a rarer
word, a page further on), the caller asks the whole tab, as before, and the trigram
index finds a rare word's few matches quickly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql import operators

from avis.db import db

#: The items of a tab searched first, in the tab's order. Enough for a word in one
#: comment in five to give a capped count (1,001 matches); a walk of this many index
#: entries and rows costs a few milliseconds, which a rarer word spends in vain before
#: the trigram index answers.
PREFIX_ROWS = 6000


@dataclass(frozen=True)
class Prefix:
    """The first matches of a tab, as far as its first ``PREFIX_ROWS`` items tell."""

    #: the keys of the matches among those items, in the tab's order (at most as many as
    #: were wanted)
    keys: list[sa.Row]
    #: those items were the whole tab: ``keys`` are all its matches (up to the number
    #: wanted)
    whole: bool

    def settles(self, count: int) -> bool:
        """Whether the tab's first ``count`` matches (or all, when fewer) are known."""
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
    hold ``words``, from its first ``PREFIX_ROWS`` items in ``order`` (its columns, some
    of them ``.desc()``)."""
    plain = [_unordered(column) for column in order]
    columns = [*(key.label(f"key_{n}") for n, key in enumerate(keys)),
               *(column.label(f"order_{n}") for n, column in enumerate(plain)),
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
    # Fewer than wanted: the tab's whole answer if nothing lies beyond its prefix.
    beyond = db.session.scalar(unsearched.with_only_columns(sa.literal(1)).order_by(*order)
                               .offset(PREFIX_ROWS).limit(1))
    return Prefix(found, whole=beyond is None)


def _descending(column: sa.ColumnElement[object]) -> bool:
    return getattr(column, "modifier", None) is operators.desc_op


def _unordered(column: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
    return column.element if _descending(column) else column  # type: ignore[attr-defined]
