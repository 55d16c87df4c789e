"""Writing validated rows: the catalogue and the trainees, one chunk at a time.

Each entity is matched on its natural key (SIRET, course numero, (course,
action numero), external session id, email, (trainee, session)), inserted when
new and updated only when a value differs, so that importing the same file
twice writes nothing the second time. Inserts fall back to ``ON CONFLICT DO
NOTHING`` when needed, so that a concurrent import or a re-run after a crash
never duplicates a row.

Within one run, the first row that mentions an entity wins: a later row with
other values for the same session (or trainee) does not flip it back and forth,
which would make a re-import report changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from avis import clock
from avis.catalog.imports.bulk import BulkTable, Columns, row_count
from avis.catalog.imports.pipeline import HashSet
from avis.db import Base
from avis.models import Action, Course, Enrolment, Session, Trainee, TrainingBody


@dataclass
class RunState:
    """What one import run remembers from chunk to chunk."""

    body_ids: dict[str, int] = field(default_factory=dict)
    course_ids: dict[str, int] = field(default_factory=dict)
    action_ids: dict[tuple[int, str], int] = field(default_factory=dict)
    session_ids: dict[str, int] = field(default_factory=dict)
    #: sessions this run created: none of their enrolments can already exist
    created_sessions: set[int] = field(default_factory=set)
    #: 64-bit hashes of emails whose trainee this run already wrote
    seen_trainees: HashSet = field(default_factory=HashSet)
    #: bodies/courses/actions/sessions/trainees created and updated
    details: Counter[str] = field(default_factory=Counter)


@dataclass
class ChunkCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0


def write_rows(db_session: DbSession, rows: pd.DataFrame, state: RunState, *, campaign: str,
               import_run_id: int | None) -> ChunkCounts:
    """Write one chunk of validated, de-duplicated rows; the caller commits."""
    if rows.empty:
        return ChunkCounts()
    if db_session.get_bind().dialect.name == "postgresql":
        # Do not wait for the WAL flush at each chunk's commit: if the server crashed
        # right after, the last chunks would be lost, and running the import again
        # (it is idempotent) writes them. Consistency is unaffected.
        db_session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    sync = _Syncer(db_session, clock.now(), state.details)
    _write_bodies(sync, rows, state)
    _write_courses(sync, rows, state)
    _write_actions(sync, rows, state)
    _write_sessions(sync, rows, state)
    trainee_ids, created_trainees, updated_trainees = _write_trainees(sync, rows, state)
    trainee_of_row = trainee_ids.astype(np.int64)
    session_of_row = rows["session_external_id"].map(state.session_ids).to_numpy(np.int64)
    pair_of_row = _pair_keys(trainee_of_row, session_of_row)
    # A pair can exist already only if both its trainee and its session did.
    maybe_known = ~(np.isin(trainee_of_row, list(created_trainees))
                    | np.isin(session_of_row, list(state.created_sessions)))
    enrolments = BulkTable(db_session.connection(), Enrolment.__table__)
    known = enrolments.lookup(("trainee_id", "session_id"), {
        "trainee_id": trainee_of_row[maybe_known].tolist(),
        "session_id": session_of_row[maybe_known].tolist(),
    })
    missing = np.flatnonzero(~np.isin(pair_of_row, _pair_keys_of(known)))
    missing = missing[np.argsort(pair_of_row[missing], kind="stable")]  # one global order
    inserted = enrolments.insert({
        "trainee_id": trainee_of_row[missing].tolist(),
        "session_id": session_of_row[missing].tolist(),
        "campaign": [campaign] * len(missing),
        "import_run_id": [import_run_id] * len(missing),
    }, ("trainee_id", "session_id"), sync.now)
    is_new = np.isin(pair_of_row, _pair_keys_of(inserted))
    first_of_trainee = ~rows["email"].duplicated(keep="first").to_numpy()
    is_updated = ~is_new & np.isin(trainee_of_row, list(updated_trainees)) & first_of_trainee
    counts = ChunkCounts(imported=int(is_new.sum()), updated=int(is_updated.sum()))
    counts.unchanged = len(rows) - counts.imported - counts.updated
    state.details["enrolments_created"] += counts.imported
    return counts


def _pair_keys(trainee_ids: np.ndarray, session_ids: np.ndarray) -> np.ndarray:
    """(trainee, session) as one 64-bit integer, for vectorised membership tests."""
    return (trainee_ids.astype(np.int64) << 32) | session_ids.astype(np.int64)


def _pair_keys_of(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Pair keys of enrolment result rows ``(id, trainee_id, session_id, …)``."""
    if not rows:
        return np.empty(0, dtype=np.int64)
    trainees = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
    sessions = np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows))
    return _pair_keys(trainees, sessions)


def _values(column: pd.Series) -> list[Any]:
    """A column as a list, with missing values as ``None`` (pandas gives NaN)."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return pa.array(column).to_pylist()  # in C, straight from the Arrow buffers
    return column.astype(object).where(column.notna(), None).tolist()


def _code_lists(column: pd.Series, convert: Callable[[str], Any] = str) -> list[list[Any]]:
    return [[convert(code) for code in text.split(";")] if text else [] for text in _values(column)]


def _first_unknown(keys: list[Any], known: dict[Any, int]) -> list[int]:
    """Positions of the first row of each key this run has not written yet.

    Plain Python over the chunk's keys: after the first chunks nearly every key is
    known, and ``drop_duplicates`` or ``isin(known)`` would cost more than this.
    """
    seen: set[Any] = set()
    positions = []
    for position, key in enumerate(keys):
        if key not in known and key not in seen:
            seen.add(key)
            positions.append(position)
    return positions


def _new(frame: pd.DataFrame, key: str, known: dict[Any, int]) -> pd.DataFrame:
    return frame.iloc[_first_unknown(frame[key].tolist(), known)]


def _write_bodies(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    sirets = rows["siret"].tolist() + rows["responsible_siret"].tolist()
    names = _values(rows["body_name"]) + _values(rows["responsible_name"])
    fresh = _first_unknown(sirets, state.body_ids)
    sirets = [sirets[i] for i in fresh]
    columns = {"siret": sirets, "siren": [s[:9] for s in sirets], "name": [names[i] for i in fresh]}
    ids = sync(TrainingBody, ("siret",), columns, compare=("name",))
    state.body_ids.update(zip(sirets, ids, strict=True))


def _write_courses(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    courses = _new(rows, "course_numero", state.course_ids)
    numeros = _values(courses["course_numero"])
    columns = {
        "numero": numeros,
        "title": _values(courses["course_title"]),
        "formacodes": _code_lists(courses["formacodes"]),
        "certifinfos": _code_lists(courses["certifinfos"]),
    }
    ids = sync(Course, ("numero",), columns, compare=("title", "formacodes", "certifinfos"))
    state.course_ids.update(zip(numeros, ids, strict=True))


def _write_actions(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    keys = [
        (state.course_ids[course], action)
        for course, action in zip(rows["course_numero"].tolist(), rows["action_numero"].tolist(),
                                  strict=True)
    ]
    fresh = _first_unknown(keys, state.action_ids)
    actions = rows.iloc[fresh]
    keys = [keys[i] for i in fresh]
    columns = {
        "course_id": [c for c, _n in keys],
        "numero": [n for _c, n in keys],
        "training_body_id": actions["siret"].map(state.body_ids).tolist(),
        "responsible_body_id": actions["responsible_siret"].map(state.body_ids).tolist(),
    }
    ids = sync(Action, ("course_id", "numero"), columns,
               compare=("training_body_id", "responsible_body_id"))
    state.action_ids.update(zip(keys, ids, strict=True))


_SESSION_VALUES = (
    "action_id",
    "numero",
    "start_date",
    "end_date",
    "postcode",
    "insee_code",
    "city",
    "departement",
    "region_code",
    "funders",
    "funding_scheme",
)


def _write_sessions(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    sessions = _new(rows, "session_external_id", state.session_ids)
    external_ids = _values(sessions["session_external_id"])
    action_ids = [
        state.action_ids[(state.course_ids[course], action)]
        for course, action in zip(sessions["course_numero"].tolist(),
                                  sessions["action_numero"].tolist(), strict=True)
    ]
    columns = {
        "external_id": external_ids,
        "action_id": action_ids,
        "numero": _values(sessions["session_numero"]),
        "start_date": sessions["start_date"].tolist(),
        "end_date": sessions["end_date"].tolist(),
        "postcode": _values(sessions["postcode"]),
        "insee_code": _values(sessions["insee_code"]),
        "city": _values(sessions["city"]),
        "departement": _values(sessions["departement"]),
        "region_code": _values(sessions["region_code"]),
        "funders": _code_lists(sessions["funders"], int),
        "funding_scheme": _values(sessions["funding_scheme"]),
    }
    ids = sync(Session, ("external_id",), columns, compare=_SESSION_VALUES)
    state.created_sessions.update(i for i, new in zip(ids, sync.created, strict=True) if new)
    state.session_ids.update(zip(external_ids, ids, strict=True))


_TRAINEE_VALUES = ("last_name", "first_name", "phone_1", "phone_2")


def _write_trainees(
    sync: _Syncer, rows: pd.DataFrame, state: RunState
) -> tuple[np.ndarray, set[int], set[int]]:
    """Return each row's trainee id, and the ids created and updated by this chunk."""
    trainees = _new(rows, "email", {})
    hashes = pd.util.hash_pandas_object(trainees["email"], index=False).to_numpy()
    writable = ~state.seen_trainees.contains(hashes)
    state.seen_trainees.add(hashes)
    emails = trainees["email"].tolist()
    columns = {"email": emails, **{n: _values(trainees[n]) for n in _TRAINEE_VALUES}}
    ids = sync(Trainee, ("email",), columns, compare=_TRAINEE_VALUES, writable=writable)
    created = {i for i, new in zip(ids, sync.created, strict=True) if new}
    updated = {i for i, changed in zip(ids, sync.updated, strict=True) if changed}
    by_email = dict(zip(emails, ids, strict=True))
    return rows["email"].map(by_email).to_numpy(), created, updated


class _Syncer:
    """Insert-or-update rows of one model, matched on a natural key."""

    def __init__(self, db_session: DbSession, now: dt.datetime, details: Counter[str]) -> None:
        self.db_session = db_session
        self.now = now
        self.details = details
        #: per row of the last call: whether it was created, whether it was updated
        self.created: list[bool] = []
        self.updated: list[bool] = []

    def __call__(
        self,
        model: type[Base],
        key_names: Sequence[str],
        columns: Columns,
        *,
        compare: Sequence[str],
        writable: np.ndarray | None = None,
    ) -> list[int]:
        """Return the id of each row; rows whose ``writable`` is false are never updated."""
        count = row_count(columns)
        self.created, self.updated = [False] * count, [False] * count
        if not count:
            return []
        bulk = BulkTable(self.db_session.connection(), model.__table__)
        keys = list(zip(*(columns[k] for k in key_names), strict=True))
        position = {key: i for i, key in enumerate(keys)}
        ids: list[int | None] = [None] * count
        to_update: list[int] = []
        for row_id, *key, changed in bulk.lookup(key_names, columns, compare):
            i = position[tuple(key)]
            ids[i] = row_id
            if changed and (writable is None or writable[i]):
                to_update.append(i)
        if to_update:
            to_update.sort(key=ids.__getitem__)
            bulk.update([ids[i] for i in to_update],
                        {n: [columns[n][i] for i in to_update] for n in compare}, self.now)
            for i in to_update:
                self.updated[i] = True
        # Keys in one global order: two importers writing the same new keys then wait
        # for each other instead of deadlocking.
        missing = sorted((i for i in range(count) if ids[i] is None), key=keys.__getitem__)
        if missing:
            fresh = {n: [values[i] for i in missing] for n, values in columns.items()}
            for row_id, *key in bulk.insert(fresh, key_names, self.now):
                i = position[tuple(key)]
                ids[i] = row_id
                self.created[i] = True
            # Rows another import inserted meanwhile: take their ids, as existing ones.
            still = [i for i in missing if ids[i] is None]
            if still:
                again = {n: [columns[n][i] for i in still] for n in key_names}
                for row_id, *key, _changed in bulk.lookup(key_names, again):
                    ids[position[tuple(key)]] = row_id
        name = model.__tablename__
        self.details[f"{name}_created"] += sum(self.created)
        self.details[f"{name}_updated"] += sum(self.updated)
        return ids  # type: ignore[return-value]
