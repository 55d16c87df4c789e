"""Set-based lookups and writes, on each database, with awkward values."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from avis.catalog.imports.bulk import BulkTable
from avis.db import db
from avis.models import Trainee

pytestmark = pytest.mark.usefixtures("app_context")

NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
AWKWARD = ["O'Brien", "{x,y}", 'say "hi"', "back\\slash", "a,b;c|d", "é ü ß 漢字", "NULL-ish"]


def trainees() -> BulkTable:
    return BulkTable(db.session.connection(), Trainee.__table__)


def test_awkward_text_survives_the_round_trip():
    emails = [f"p{i}@example.org" for i in range(len(AWKWARD))]

    inserted = trainees().insert({"email": emails, "last_name": AWKWARD,
                                  "first_name": [None] * len(AWKWARD)}, ("email",), NOW)

    assert sorted(row[1] for row in inserted) == sorted(emails)
    stored = dict(db.session.execute(sa.select(Trainee.email, Trainee.last_name)).all())
    assert stored == dict(zip(emails, AWKWARD, strict=True))
    assert db.session.scalar(sa.select(sa.func.count()).where(Trainee.first_name.is_(None))) \
        == len(AWKWARD)
    created = db.session.scalars(sa.select(Trainee.created_dt)).all()
    assert set(created) == {NOW}


def test_insert_skips_rows_already_there_and_returns_only_new_ones():
    bulk = trainees()
    bulk.insert({"email": ["a@example.org", "b@example.org"], "last_name": ["A", "B"]},
                ("email",), NOW)

    # As if another import had inserted "b" between our look-up and our insert.
    inserted = bulk.insert(
        {"email": ["b@example.org", "c@example.org"], "last_name": ["B2", "C"]}, ("email",), NOW)

    assert [row[1] for row in inserted] == ["c@example.org"]
    stored = dict(db.session.execute(sa.select(Trainee.email, Trainee.last_name)).all())
    assert stored == {"a@example.org": "A", "b@example.org": "B", "c@example.org": "C"}


def test_lookup_tells_which_rows_changed():
    bulk = trainees()
    bulk.insert({"email": ["a@example.org", "b@example.org", "c@example.org"],
                 "last_name": ["A", None, "C"], "first_name": ["x", "y", "z"]}, ("email",), NOW)

    found = bulk.lookup(("email",), {
        "email": ["a@example.org", "b@example.org", "c@example.org", "d@example.org"],
        "last_name": ["A", "B", None, "D"],
        "first_name": ["x", "y", "z", "w"],
    }, compare=("last_name", "first_name"))

    changed = {row[1]: row[-1] for row in found}
    assert changed == {"a@example.org": False, "b@example.org": True, "c@example.org": True}


def test_update_sets_values_and_time():
    bulk = trainees()
    (row,) = bulk.insert({"email": ["a@example.org"], "last_name": ["A"]}, ("email",), NOW)
    later = NOW + dt.timedelta(hours=1)

    bulk.update([row[0]], {"last_name": ["{Ä}"]}, later)

    trainee = db.session.execute(sa.select(Trainee.last_name, Trainee.updated_dt)).one()
    assert tuple(trainee) == ("{Ä}", later)
