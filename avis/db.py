"""Database plumbing shared by every feature: the declarative base, types, the engine hooks."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from typing import Any, ClassVar

import sqlalchemy as sa
import sqlalchemy.ext.compiler
from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase

#: Flask integration: ``db.session`` lives for one application context, ``db.engine``
#: is the application's engine. Nothing connects before the first query.
db = SQLAlchemy(session_options={"expire_on_commit": False})

#: Stable constraint names, so that Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no such type, so the value is
    stored as naive UTC and made aware again when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


#: A list of short codes (formacodes, funder codes…): JSON on SQLite, JSONB on PostgreSQL.
CodeList = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def string_enum(cls: type[enum.StrEnum], length: int) -> sa.Enum:
    """An enum stored as text with a CHECK constraint: portable, and new values need
    only a migration of the constraint, not of a database type."""
    return sa.Enum(cls, native_enum=False, length=length, validate_strings=True,
                   create_constraint=True)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


def configure_engine(engine: sa.Engine) -> None:
    """SQLite defaults fit for a small server: foreign keys enforced, WAL, waits on locks."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Wait for locks first: the statements below may need one when another
        # process (an import, the scheduler) is writing.
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL is a property of the file: switch once, not at every connection.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
        dbapi_connection.create_function("avis_sha256", 1, _sqlite_sha256, deterministic=True)


#: True when the current transaction has written nothing (no transaction id assigned: no
#: row, table or lock of a row was touched).
_WROTE_NOTHING = "SELECT pg_current_xact_id_if_assigned() IS NULL"


def end_read_only_transactions(error: BaseException | None) -> None:
    """Teardown run before Flask-SQLAlchemy-Lite closes the sessions: on PostgreSQL, a
    transaction that wrote nothing is committed instead of being rolled back.

    Closing a session rolls its transaction back, and psycopg forgets its prepared
    statements at every rollback (an object made in the transaction may be gone): every
    statement of every request was then parsed and planned again by PostgreSQL. Most
    requests only read. Committing them is the same as rolling them back, and psycopg
    keeps what it prepared. Whether anything was written is asked to PostgreSQL itself,
    not guessed from the session: a view's half-done changes (flushed but not committed,
    written by Core or a raw cursor) have a transaction id and are rolled back as before;
    so are requests ending in an error and transactions in error. ``SET LOCAL`` settings
    end with either; avis sets nothing for the whole connection inside a request."""
    if error is not None:
        return
    from flask import g

    sessions = g.get("_sqlalchemy_sessions")
    for session in (sessions or {}).values():
        dialect = session.get_bind().dialect
        if session.in_transaction() and dialect.driver == "psycopg":
            _commit_if_nothing_written(session)


def _commit_if_nothing_written(session: Any) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    try:
        # The driver's connection, below SQLAlchemy: its transaction is committed without
        # SQLAlchemy knowing, whose rollback at close then finds nothing to roll back
        # (psycopg does nothing, and keeps its prepared statements).
        driver = session.connection().connection.driver_connection
        if driver.info.transaction_status != TransactionStatus.INTRANS:
            return
        with driver.cursor() as cursor:
            cursor.execute(_WROTE_NOTHING)
            row = cursor.fetchone()
        if row is not None and row[0] is True:
            driver.commit()
    except (sa.exc.SQLAlchemyError, psycopg.Error):
        # A connection lost or invalidated (a view that caught the error): the session's
        # close rolls back and returns it, as it always did.
        return


def among(column: sa.ColumnElement[Any], ids: list[Any], item_type: Any = sa.Integer,
          ) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY(:ids)``) instead of one
    parameter per id, which costs more to render and parse than the statement's work (and
    makes one statement, prepared once, of every list length). ``item_type``: the type
    of the ids (``sa.String`` for the keys of scores)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(item_type)))
    return column.in_(ids)


def funders_overlap(column: sa.ColumnElement[Any], codes: tuple[int, ...] | list[int]
                    ) -> sa.ColumnElement[bool]:
    """Whether the JSON list of funder codes in ``column`` holds any of ``codes``."""
    codes = [int(code) for code in codes]
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.or_(*(column.op("@>")(sa.func.to_jsonb(code)) for code in codes))
    items = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(1).select_from(items).where(items.c.value.in_(codes)))


def insert_skipping_conflicts(table: sa.Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the session's database (PostgreSQL or
    SQLite): rows that would break a unique key are skipped, in one statement."""
    from sqlalchemy.dialects import sqlite

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


class email_digest(sa.sql.functions.GenericFunction[bytes]):
    """SHA-256 of an email address, in SQL: PostgreSQL's ``sha256()``, a registered
    Python function on SQLite. Equal to ``hashlib.sha256(email.encode()).digest()``."""

    type = sa.LargeBinary()
    inherit_cache = True


@sa.ext.compiler.compiles(email_digest, "postgresql")
def _email_digest_pg(element: email_digest, compiler: Any, **kw: Any) -> str:
    return f"sha256(convert_to({compiler.process(element.clauses, **kw)}, 'UTF8'))"


@sa.ext.compiler.compiles(email_digest, "sqlite")
def _email_digest_sqlite(element: email_digest, compiler: Any, **kw: Any) -> str:
    return f"avis_sha256({compiler.process(element.clauses, **kw)})"


def _sqlite_sha256(text: str | None) -> bytes | None:
    return None if text is None else hashlib.sha256(text.encode()).digest()
