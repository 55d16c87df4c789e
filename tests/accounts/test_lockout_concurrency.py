"""Twenty wrong passwords at once on PostgreSQL: every one counted, the lock set."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import Browser, csrf_token

ATTEMPTS = 20


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent row updates need PostgreSQL (SQLite has one writer at a time)")


@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_wrong_passwords_are_each_counted(app: Flask,
                                                      make_account: Callable[..., Account],
                                                      browser: Callable[[], Browser]) -> None:
    app.config.update(LOGIN_MAX_FAILURES=10, LOGIN_RATE_LIMIT="1000 per minute")
    account = make_account(Role.moderator)
    clients = [browser() for _ in range(ATTEMPTS)]
    tokens = [csrf_token(c.get("/login").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attempt(client: Browser, token: str) -> None:
        try:
            start.wait(timeout=30)
            response = client.client.post("/login", data={
                "email": account.email, "password": "Wrong-Password-Again-1",
                "csrf_token": token})
            statuses.append(response.status_code)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [422] * ATTEMPTS
    with app.app_context():
        stored = db.session.get(Account, account.id)
        failures = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "account.sign_in_failed",
            AuditEvent.object_id == str(account.id))).all()
    counted = sorted(e.changes["failures"] for e in failures if "failures" in e.changes)
    refused_as_locked = [e for e in failures if e.changes["reason"] == "locked"]
    # Each counted attempt got its own number: no two read the same count.
    assert counted == list(range(1, len(counted) + 1))
    assert stored.failed_logins == len(counted) >= 10
    assert len(counted) + len(refused_as_locked) == ATTEMPTS
    assert stored.locked_until_dt is not None
    assert stored.locked_until_dt > clock.now()
    # Locked: the right password is refused too.
    assert browser().sign_in(account.email).status_code == 422
