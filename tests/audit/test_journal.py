"""The audit journal: append-only, written with the action, read and exported by admins."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts import operations
from avis.accounts.models import Account, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import Browser


def test_events_cannot_be_changed(app: Flask, make_account) -> None:
    make_account(Role.moderator)
    with app.app_context():
        event_id = db.session.scalar(sa.select(AuditEvent.id))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id)
                               .values(action="account.nothing_happened"))
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "account.created"


def test_an_event_is_written_with_its_action_or_not_at_all(app: Flask, make_account) -> None:
    person = make_account(Role.moderator)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        operations.disable(db.session.get(Account, person.id), by=None, actor_role="cli")
        db.session.rollback()  # the action fails: its event goes with it
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
        assert db.session.get(Account, person.id).status == AccountStatus.active


def test_the_journal_filters(app: Flask, signed_in: Callable[..., Browser], make_account,
                             browser: Callable[[], Browser]) -> None:
    admin = signed_in(Role.admin)
    region = make_account(Role.region, "staff@region.example", region="52")
    browser().sign_in(region.email, "not the password")
    browser().sign_in(region.email)

    failed = admin.get("/admin/journal?action=account.sign_in_failed").get_data(as_text=True)
    theirs = admin.get("/admin/journal?actor=STAFF@region.example").get_data(as_text=True)
    about = admin.get(f"/admin/journal?object_id={region.id}").get_data(as_text=True)
    today = clock.now().astimezone(clock.PARIS).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    future = admin.get(f"/admin/journal?start={tomorrow}").get_data(as_text=True)

    assert "1 évènement" in failed
    assert "Connexion refusée" in failed
    assert "2 évènements" in theirs  # its failure and its sign-in
    assert "3 évènements" in about  # created, failure, sign-in
    assert "Aucun évènement ne correspond" in future
    assert admin.get("/admin/journal?start=31/02/2026").status_code == 400


def test_the_csv_export_is_complete_safe_and_journaled(app: Flask,
                                                       signed_in: Callable[..., Browser],
                                                       make_account,
                                                       browser: Callable[[], Browser]) -> None:
    admin = signed_in(Role.admin)
    # A valid address that a spreadsheet would run as a formula.
    formula = make_account(Role.moderator, "=1+1@example.org")
    browser().sign_in(formula.email)
    make_account(Role.region, "staff@region.example", region="52")

    response = admin.get("/admin/journal.csv?action=account.sign_in")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="journal-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == ["id", "date", "action", "role", "par", "objet", "identifiant",
                       "changements", "adresse"]
    with app.app_context():
        exported = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "journal.exported"))
    admin_email = admin.account.email  # type: ignore[attr-defined]
    assert sorted((row[2], row[3], row[4]) for row in rows[1:]) == [
        ("account.sign_in", "admin", admin_email),
        ("account.sign_in", "moderator", "'=1+1@example.org")]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert exported is not None
    assert exported.changes == {"rows": 2, "filters": {"action": "account.sign_in"}}
    assert exported.actor_id == admin.account.id  # type: ignore[attr-defined]


def test_only_admins_read_it(app: Flask, signed_in: Callable[..., Browser]) -> None:
    for role, options in ((Role.moderator, {}), (Role.region, {"region": "52"}),
                          (Role.organisation, {"siret": "12345678200010"})):
        client = signed_in(role, **options)
        assert client.get("/admin/journal").status_code == 403
        assert client.get("/admin/journal.csv").status_code == 403
