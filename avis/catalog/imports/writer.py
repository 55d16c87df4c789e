"""Writing validated rows: the catalogue and the trainees, one chunk at a time.

Each entity is matched on its natural key (SIRET, course numero, (course,
action numero), external session id, email, (trainee, session)), inserted when
new and updated only when a value differs, so that importing the same file
twice writes nothing the second time. Inserts use ``ON CONFLICT DO NOTHING`` so
that a concurrent import or a re-run after a crash never duplicates a row.

Within one run, the first row that mentions an entity wins: a later row with
other values for the same session (or trainee) does not flip it back and forth,
which would make a re-import report changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session as DbSession

from avis import clock
from avis.catalog.imports.bulk import BulkTable
from avis.db import Base
from avis.models import Action, Course, Enrolment, Session, Trainee, TrainingBody

DUPLICATE_REASON = "doublon d'une ligne précédente du fichier (même e-mail, même session)"


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
    seen_trainees: set[int] = field(default_factory=set)
    #: 64-bit hashes of (email, session) pairs already read, to catch duplicates
    seen_pairs: set[int] = field(default_factory=set)
    #: bodies/courses/actions/sessions/trainees created and updated
    details: Counter[str] = field(default_factory=Counter)


@dataclass
class ChunkCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0


def drop_duplicates(rows: pd.DataFrame, state: RunState) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off rows whose (email, session) pair an earlier row of the file already had.

    Pairs are remembered as 64-bit hashes to keep a million-row import small in
    memory; two different pairs sharing a hash is a one-in-10^13 event at that size.
    """
    if rows.empty:
        return rows, rows
    hashes = pd.util.hash_pandas_object(rows[["email", "session_external_id"]], index=False)
    repeated_in_chunk = hashes.duplicated(keep="first")
    seen_before = hashes.isin(state.seen_pairs)
    duplicate = repeated_in_chunk | seen_before
    state.seen_pairs.update(hashes[~duplicate].tolist())
    return rows[~duplicate], rows[duplicate]


def write_rows(db_session: DbSession, rows: pd.DataFrame, state: RunState, *, campaign: str,
               import_run_id: int | None) -> ChunkCounts:
    """Write one chunk of validated, de-duplicated rows; the caller commits."""
    if rows.empty:
        return ChunkCounts()
    now = clock.now()
    sync = _Syncer(db_session, now, state.details)
    _write_bodies(sync, rows, state)
    _write_courses(sync, rows, state)
    _write_actions(sync, rows, state)
    _write_sessions(sync, rows, state)
    trainee_ids, created_trainees, updated_trainees = _write_trainees(sync, rows, state)
    session_ids = rows["session_external_id"].map(state.session_ids)
    pairs = pd.DataFrame({"trainee_id": trainee_ids.to_numpy(), "session_id": session_ids})
    # A pair can exist already only if both its trainee and its session did.
    maybe_known = ~pairs["trainee_id"].isin(created_trainees) & ~pairs["session_id"].isin(
        state.created_sessions
    )
    enrolments = BulkTable(db_session.connection(), Enrolment.__table__)
    lookup = pairs[maybe_known]
    known = {
        (row.trainee_id, row.session_id)
        for row in enrolments.lookup(
            ("trainee_id", "session_id"), (),
            list(zip(lookup["trainee_id"].tolist(), lookup["session_id"].tolist(), strict=True)),
        )
    }
    candidates = pairs[~_pair_in(pairs, known)]
    records = [
        {"trainee_id": t, "session_id": s, "campaign": campaign, "import_run_id": import_run_id}
        for t, s in zip(candidates["trainee_id"].tolist(), candidates["session_id"].tolist(),
                        strict=True)
    ]
    inserted = {
        (row.trainee_id, row.session_id)
        for row in enrolments.insert(records, ("trainee_id", "session_id"), now)
    }
    is_new = _pair_in(pairs, inserted)
    first_of_trainee = ~rows["email"].duplicated(keep="first").to_numpy()
    is_updated = ~is_new & pairs["trainee_id"].isin(updated_trainees).to_numpy() & first_of_trainee
    counts = ChunkCounts(
        imported=int(is_new.sum()),
        updated=int(is_updated.sum()),
    )
    counts.unchanged = len(rows) - counts.imported - counts.updated
    state.details["enrolments_created"] += counts.imported
    return counts


def _pair_in(pairs: pd.DataFrame, members: set[tuple[int, int]]) -> pd.Series:
    if not members:
        return pd.Series(False, index=pairs.index)
    keys = pd.Series(list(zip(pairs["trainee_id"], pairs["session_id"], strict=True)),
                     index=pairs.index, dtype=object)
    return keys.isin(members)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, with missing values as ``None`` (pandas gives NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _codes(text: str | None) -> list[str]:
    return text.split(";") if text else []


def _write_bodies(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    bodies = pd.concat(
        [
            rows[["siret", "body_name"]].rename(columns={"body_name": "name"}),
            rows[["responsible_siret", "responsible_name"]].rename(
                columns={"responsible_siret": "siret", "responsible_name": "name"}
            ),
        ],
        ignore_index=True,
    ).drop_duplicates("siret", keep="first")
    bodies = bodies[~bodies["siret"].isin(state.body_ids)]
    records = _records(bodies)
    for record in records:
        record["siren"] = record["siret"][:9]
    state.body_ids.update(sync(TrainingBody, ("siret",), records, compare=("name",)))


def _write_courses(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    courses = rows[["course_numero", "course_title", "formacodes", "certifinfos"]]
    courses = courses.drop_duplicates("course_numero", keep="first")
    courses = courses[~courses["course_numero"].isin(state.course_ids)]
    records = [
        {
            "numero": r["course_numero"],
            "title": r["course_title"],
            "formacodes": _codes(r["formacodes"]),
            "certifinfos": _codes(r["certifinfos"]),
        }
        for r in _records(courses)
    ]
    state.course_ids.update(
        sync(Course, ("numero",), records, compare=("title", "formacodes", "certifinfos"))
    )


def _write_actions(sync: _Syncer, rows: pd.DataFrame, state: RunState) -> None:
    actions = rows[["course_numero", "action_numero", "siret", "responsible_siret"]]
    actions = actions.drop_duplicates(["course_numero", "action_numero"], keep="first")
    records = []
    for r in _records(actions):
        course_id = state.course_ids[r["course_numero"]]
        if (course_id, r["action_numero"]) in state.action_ids:
            continue
        records.append(
            {
                "course_id": course_id,
                "numero": r["action_numero"],
                "training_body_id": state.body_ids[r["siret"]],
                "responsible_body_id": state.body_ids[r["responsible_siret"]],
            }
        )
    state.action_ids.update(
        sync(Action, ("course_id", "numero"), records,
             compare=("training_body_id", "responsible_body_id"))
    )


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
    sessions = rows.drop_duplicates("session_external_id", keep="first")
    sessions = sessions[~sessions["session_external_id"].isin(state.session_ids)]
    records = []
    for r in _records(sessions):
        records.append(
            {
                "external_id": r["session_external_id"],
                "action_id": state.action_ids[(state.course_ids[r["course_numero"]],
                                               r["action_numero"])],
                "numero": r["session_numero"],
                "start_date": r["start_date"],
                "end_date": r["end_date"],
                "postcode": r["postcode"],
                "insee_code": r["insee_code"],
                "city": r["city"],
                "departement": r["departement"],
                "region_code": r["region_code"],
                "funders": [int(code) for code in _codes(r["funders"])],
                "funding_scheme": r["funding_scheme"],
            }
        )
    ids = sync(Session, ("external_id",), records, compare=_SESSION_VALUES)
    state.created_sessions.update(ids[key] for key in sync.last_created)
    state.session_ids.update(ids)


_TRAINEE_VALUES = ("last_name", "first_name", "phone_1", "phone_2")


def _write_trainees(
    sync: _Syncer, rows: pd.DataFrame, state: RunState
) -> tuple[pd.Series, set[int], set[int]]:
    """Return each row's trainee id, and the ids created and updated by this chunk."""
    trainees = rows[["email", *_TRAINEE_VALUES]].drop_duplicates("email", keep="first")
    hashes = pd.util.hash_pandas_object(trainees["email"], index=False)
    writable = dict(zip(trainees["email"].tolist(), (~hashes.isin(state.seen_trainees)).tolist(),
                        strict=True))
    state.seen_trainees.update(hashes.tolist())
    ids = sync(Trainee, ("email",), _records(trainees), compare=_TRAINEE_VALUES,
               may_update=lambda key: writable[key[0]])
    created = {ids[email] for email in sync.last_created}
    updated = {ids[email] for email in sync.last_updated}
    return rows["email"].map(ids), created, updated


class _Syncer:
    """Insert-or-update a batch of records of one model, matched on a natural key."""

    def __init__(self, db_session: DbSession, now: dt.datetime, details: Counter[str]) -> None:
        self.db_session = db_session
        self.now = now
        self.details = details
        #: keys created and updated by the last call (bare values for one-column keys)
        self.last_created: set[Any] = set()
        self.last_updated: set[Any] = set()

    def __call__(
        self,
        model: type[Base],
        key_names: Sequence[str],
        records: list[dict[str, Any]],
        *,
        compare: Sequence[str],
        may_update: Callable[[tuple[Hashable, ...]], bool] = lambda _key: True,
    ) -> dict[Any, int]:
        """Return ids by key (a bare value for one-column keys, else a tuple)."""
        self.last_created, self.last_updated = set(), set()
        if not records:
            return {}
        keyed = {tuple(r[k] for k in key_names): r for r in records}
        bulk = BulkTable(self.db_session.connection(), model.__table__)
        existing = {
            tuple(row[1 : 1 + len(key_names)]): row for row in bulk.lookup(key_names, compare,
                                                                            list(keyed))
        }
        ids: dict[tuple[Hashable, ...], int] = {}
        updates, inserts = [], []
        for key, record in keyed.items():
            current = existing.get(key)
            if current is None:
                inserts.append(record)
                continue
            ids[key] = current.id
            if may_update(key) and any(
                record[name] != current._mapping[name] for name in compare
            ):
                updates.append({"id": current.id, **{n: record[n] for n in compare}})
                self.last_updated.add(key)
        bulk.update(updates, self.now)
        for row in bulk.insert(inserts, key_names, self.now):
            key = tuple(row[1:])
            ids[key] = row.id
            self.last_created.add(key)
        # Rows another import inserted meanwhile: take their ids, as existing ones.
        missing = [k for k in keyed if k not in ids]
        for row in bulk.lookup(key_names, (), missing):
            ids[tuple(row[1:])] = row.id
        name = model.__tablename__
        self.details[f"{name}_created"] += len(self.last_created)
        self.details[f"{name}_updated"] += len(self.last_updated)
        if len(key_names) == 1:
            self.last_created = {key[0] for key in self.last_created}
            self.last_updated = {key[0] for key in self.last_updated}
            return {key[0]: value for key, value in ids.items()}
        return ids
