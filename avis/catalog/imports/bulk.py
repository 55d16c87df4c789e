"""Set-based lookups and writes of thousands of rows in one statement.

Rows travel as columns (``{"email": [...], "last_name": [...]}``). On
PostgreSQL every column is one array parameter read back with ``unnest``: the
SQL text stays small and constant, where ``IN (…)`` lists and multi-row
``VALUES`` would make the driver build and parse statements of tens of
thousands of placeholders; comparisons of stored and new values happen in the
database too. SQLite has no arrays: lookups use batched ``IN`` lists and
writes use executemany.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from avis.db import UTCDateTime

#: Columns of equal length, by column name.
Columns = dict[str, list[Any]]

_SEPARATOR = "\x1f"
_NULL = "\x1e"

#: Keys per ``IN (...)`` lookup on SQLite: under its 32,766 bound parameters even for pairs.
LOOKUP_BATCH = 5000


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


class BulkTable:
    """One table, many rows: ``lookup``, ``insert`` (ON CONFLICT DO NOTHING), ``update`` by id."""

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table
        self.is_postgresql = connection.dialect.name == "postgresql"

    def lookup(
        self, key_names: Sequence[str], rows: Columns, compare: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        """``(id, *key, changed)`` of the stored rows whose key is in ``rows``.

        ``changed`` tells whether any ``compare`` column differs from ``rows``.
        """
        if not row_count(rows):
            return []
        if self.is_postgresql:
            return self._pg_lookup(key_names, rows, compare)
        return self._sqlite_lookup(key_names, rows, compare)

    def insert(self, rows: Columns, key_names: Sequence[str], now: dt.datetime
               ) -> list[tuple[Any, ...]]:
        """Insert the rows not there yet; return ``(id, *key)`` of those inserted."""
        if not row_count(rows):
            return []
        names = list(rows)
        returning = [self.table.c.id, *(self.table.c[k] for k in key_names)]
        if self.is_postgresql:
            source = self._unnest(rows)
            stamp = sa.literal(now, UTCDateTime())
            stmt = postgresql.insert(self.table).from_select(
                [*names, "created_dt", "updated_dt"],
                sa.select(*(self._read(source, n) for n in names), stamp, stamp),
            )
            # The caller looked these keys up and found none, so a plain INSERT nearly
            # always succeeds, and it costs a third less than a speculative one. Should
            # another import have inserted some meanwhile, ON CONFLICT sorts it out.
            try:
                with self.connection.begin_nested():
                    return self.connection.execute(stmt.returning(*returning)).all()
            except sa.exc.IntegrityError:
                pass
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key_names))
            return self.connection.execute(stmt.returning(*returning)).all()
        stmt = (
            sqlite.insert(self.table)
            .on_conflict_do_nothing(index_elements=list(key_names))
            .returning(*returning)
        )
        return self.connection.execute(stmt, _records(rows, created_dt=now, updated_dt=now)
                                       ).all()

    def update(self, ids: list[int], rows: Columns, now: dt.datetime) -> None:
        """Set the given columns of the rows with these ``ids``."""
        if not ids:
            return
        names = list(rows)
        if self.is_postgresql:
            source = self._unnest({"id": ids, **rows})
            stmt = (
                sa.update(self.table)
                .where(self.table.c.id == source.c.id)
                .values({n: self._read(source, n) for n in names}
                        | {"updated_dt": sa.literal(now, UTCDateTime())})
            )
            self.connection.execute(stmt)
            return
        stmt = (
            sa.update(self.table)
            .where(self.table.c.id == sa.bindparam("_id"))
            .values({n: sa.bindparam(n) for n in (*names, "updated_dt")})
        )
        self.connection.execute(stmt, _records({"_id": ids, **rows}, updated_dt=now))

    def _pg_lookup(self, key_names: Sequence[str], rows: Columns, compare: Sequence[str]
                   ) -> list[tuple[Any, ...]]:
        source = self._unnest({n: rows[n] for n in (*key_names, *compare)})
        if compare:
            changed = sa.tuple_(*(self.table.c[c] for c in compare)).is_distinct_from(
                sa.tuple_(*(self._read(source, c) for c in compare)))
        else:
            changed = sa.false()
        query = sa.select(
            self.table.c.id, *(self.table.c[k] for k in key_names), changed
        ).join_from(self.table, source,
                    sa.and_(*(self.table.c[k] == source.c[k] for k in key_names)))
        return self.connection.execute(query).all()

    def _sqlite_lookup(self, key_names: Sequence[str], rows: Columns, compare: Sequence[str]
                       ) -> list[tuple[Any, ...]]:
        keys = list(zip(*(rows[k] for k in key_names), strict=True))
        wanted = dict(zip(keys, zip(*(rows[c] for c in compare), strict=True), strict=True)) \
            if compare else {}
        key_columns = [self.table.c[k] for k in key_names]
        match_on = sa.tuple_(*key_columns) if len(key_columns) > 1 else key_columns[0]
        query = sa.select(self.table.c.id, *key_columns, *(self.table.c[c] for c in compare))
        found: list[tuple[Any, ...]] = []
        width = 1 + len(key_names)
        for start in range(0, len(keys), LOOKUP_BATCH):
            batch = keys[start : start + LOOKUP_BATCH]
            values = batch if len(key_columns) > 1 else [k[0] for k in batch]
            for row in self.connection.execute(query.where(match_on.in_(values))):
                key = tuple(row[1:width])
                found.append((*row[:width], bool(compare) and tuple(row[width:]) != wanted[key]))
        return found

    def _is_json(self, name: str) -> bool:
        return isinstance(self.table.c[name].type, sa.JSON)

    def _unnest(self, rows: Columns) -> Any:
        """``unnest(…) AS rows(a, b, …)``: each column travels as one text parameter.

        The values of a column are joined with the ASCII unit separator (and
        NULL written as the record separator), then split and cast back by the
        database: joining is C-fast, where the driver's array adapter quotes
        each element in Python. Validation keeps control characters out of
        imported text, so neither separator can occur in a value.
        """
        arrays = []
        for name, values in rows.items():
            column_type = self.table.c[name].type
            if self._is_json(name):
                # No array of JSONB parameter: text, cast back when read.
                texts = [_NULL if v is None else json.dumps(v) for v in values]
                element: Any = sa.Text()
            else:
                texts = _texts(values, column_type)
                element = column_type
            blob = sa.bindparam(f"rows_{name}", _SEPARATOR.join(texts), type_=sa.Text())
            split = sa.func.string_to_array(blob, sa.literal(_SEPARATOR), sa.literal(_NULL))
            arrays.append(sa.cast(split, postgresql.ARRAY(element)))
        return sa.func.unnest(*arrays).table_valued(*rows).render_derived(name="rows")

    def _read(self, source: Any, name: str) -> Any:
        column = source.c[name]
        return sa.cast(column, postgresql.JSONB) if self._is_json(name) else column


def _texts(values: list[Any], column_type: Any) -> list[str]:
    if isinstance(column_type, sa.String):
        # Imported text is never empty (an empty cell is NULL), so "" may stand for NULL.
        return [v or _NULL for v in values]
    if isinstance(column_type, sa.Date):
        return [_NULL if v is None else v.isoformat() for v in values]
    return [_NULL if v is None else str(v) for v in values]


def _records(rows: Columns, **constants: Any) -> list[dict[str, Any]]:
    names = list(rows)
    return [dict(zip(names, values, strict=True), **constants)
            for values in zip(*rows.values(), strict=True)]
