"""Set-based lookups and writes of thousands of rows in one statement.

On PostgreSQL every column travels as one array parameter and the statement
reads them back with ``unnest``: the SQL text stays small and constant, where
``IN (…)`` lists and multi-row ``VALUES`` would send (and make the driver
parse) a statement of tens of thousands of placeholders. SQLite has no arrays:
there, lookups use batched ``IN`` lists and writes use executemany.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from avis.db import UTCDateTime

#: Keys per ``IN (...)`` lookup on SQLite: under its 32,766 bound parameters even for pairs.
LOOKUP_BATCH = 5000


class BulkTable:
    """One table, many rows: ``lookup``, ``insert`` (ON CONFLICT DO NOTHING), ``update`` by id."""

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table
        self.is_postgresql = connection.dialect.name == "postgresql"

    def lookup(
        self, key_names: Sequence[str], columns: Sequence[str], keys: Sequence[tuple[Any, ...]]
    ) -> list[sa.Row[Any]]:
        """Rows (``id``, keys, columns) whose key is one of ``keys``."""
        if not keys:
            return []
        selected = [self.table.c.id, *(self.table.c[k] for k in key_names),
                    *(self.table.c[c] for c in columns)]
        if self.is_postgresql:
            source = self._unnest(key_names, [dict(zip(key_names, k, strict=True)) for k in keys])
            match = sa.and_(*(self.table.c[k] == source.c[k] for k in key_names))
            return list(self.connection.execute(sa.select(*selected).join_from(
                self.table, source, match)))
        key_columns = [self.table.c[k] for k in key_names]
        match_on = sa.tuple_(*key_columns) if len(key_columns) > 1 else key_columns[0]
        found: list[sa.Row[Any]] = []
        for start in range(0, len(keys), LOOKUP_BATCH):
            batch = keys[start : start + LOOKUP_BATCH]
            values = batch if len(key_columns) > 1 else [k[0] for k in batch]
            found.extend(self.connection.execute(sa.select(*selected).where(match_on.in_(values))))
        return found

    def insert(
        self, rows: Sequence[dict[str, Any]], key_names: Sequence[str], now: dt.datetime
    ) -> list[sa.Row[Any]]:
        """Insert the rows not there yet; return (``id``, keys) of those inserted."""
        if not rows:
            return []
        names = list(rows[0])
        returning = [self.table.c.id, *(self.table.c[k] for k in key_names)]
        if self.is_postgresql:
            source = self._unnest(names, rows)
            stamp = sa.literal(now, UTCDateTime())
            stmt = (
                postgresql.insert(self.table)
                .from_select(
                    [*names, "created_dt", "updated_dt"],
                    sa.select(*(self._read(source, n) for n in names), stamp, stamp),
                )
                .on_conflict_do_nothing(index_elements=list(key_names))
                .returning(*returning)
            )
            return list(self.connection.execute(stmt))
        stmt = (
            sqlite.insert(self.table)
            .on_conflict_do_nothing(index_elements=list(key_names))
            .returning(*returning)
        )
        stamped = [{**row, "created_dt": now, "updated_dt": now} for row in rows]
        return list(self.connection.execute(stmt, stamped))

    def update(self, rows: Sequence[dict[str, Any]], now: dt.datetime) -> None:
        """Set the given columns of each row (a dict with its ``id``)."""
        if not rows:
            return
        names = [n for n in rows[0] if n != "id"]
        if self.is_postgresql:
            source = self._unnest(["id", *names], rows)
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
        self.connection.execute(
            stmt, [{**{n: row[n] for n in names}, "_id": row["id"], "updated_dt": now}
                   for row in rows]
        )

    def _is_json(self, name: str) -> bool:
        return isinstance(self.table.c[name].type, sa.JSON)

    def _unnest(self, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> Any:
        """``unnest(:a, :b, …) AS rows(a, b, …)``: one array parameter per column."""
        arrays = []
        for name in names:
            values = [row[name] for row in rows]
            if self._is_json(name):
                # No array of JSONB parameter type: ship text, cast back when read.
                values = [json.dumps(v) for v in values]
                element: Any = sa.Text()
            else:
                element = self.table.c[name].type
            arrays.append(sa.bindparam(f"rows_{name}", values, type_=postgresql.ARRAY(element)))
        return sa.func.unnest(*arrays).table_valued(*names).render_derived(name="rows")

    def _read(self, source: Any, name: str) -> Any:
        column = source.c[name]
        return sa.cast(column, postgresql.JSONB) if self._is_json(name) else column
