"""Emailed links (activation, forgotten password): lifetimes counted from the sending,
single use, never used up by a GET, dead for a disabled account; what choosing a password
with one ends; and the forgotten-password page, which tells nobody whether an address
has an account."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from avis import clock
from avis.accounts import operations
from avis.accounts.models import Account, AccountMessage, AccountStatus, AccountToken, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import PASSWORD, Browser, csrf_token
from tests.accounts.test_mail import (
    ACTIVATION_SUBJECT,
    NEW_PASSWORD,
    RESET_SUBJECT,
    choose_password,
    invite,
    mailbox,
    messages,
    send,
    token_in,
)

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
GONE = "Ce lien ne fonctionne plus"
_CSRF_VALUE = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+(")')


def reload(app: Flask, account_id: int) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        return account


def events(app: Flask, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(db.session.scalars(query))


def tokens(app: Flask) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    """(purpose, expiry, use) of every link minted, oldest first."""
    with app.app_context():
        return [(str(token.purpose), token.expires_dt, token.used_dt) for token in
                db.session.scalars(sa.select(AccountToken).order_by(AccountToken.id))]


def assert_gone(response: TestResponse) -> None:
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert f"<h1>{GONE}</h1>" in page
    assert "Il a déjà servi, ou il a expiré." in page


def forgot(client: Browser, email: str) -> TestResponse:
    return client.submit("/login/mot-de-passe-oublie", {"email": email})


def open_form(client: Browser, token: str) -> str:
    """Open an emailed link and its form; the form's CSRF token, to submit it later."""
    assert client.get(f"/login/lien/{token}").status_code == 303
    page = client.get("/login/mot-de-passe")
    assert page.status_code == 200
    return csrf_token(page.get_data(as_text=True))


def submit_later(client: Browser, csrf: str) -> TestResponse:
    return client.client.post("/login/mot-de-passe", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf})


def latest_token(instance_path: Path, subject: str) -> str:
    [message] = [m for m in mailbox(instance_path) if m["Subject"] == subject][-1:]
    return token_in(message)


# --- Lifetimes ----------------------------------------------------------------------------

def test_an_activation_link_works_seven_days_from_its_sending(
        app: Flask, browser: Callable[[], Browser], instance_path: Path) -> None:
    with clock.frozen_at(START):
        account = invite(app, "paul@example.org")
    # Sent two days after it was queued, when a sender got to it.
    sent = START + dt.timedelta(days=2)
    send(app, sent)
    token = latest_token(instance_path, ACTIVATION_SUBJECT)
    assert tokens(app) == [("activation", sent + dt.timedelta(days=7), None)]
    early, late, after = browser(), browser(), browser()

    with clock.frozen_at(sent + dt.timedelta(days=7) - dt.timedelta(seconds=1)):
        assert early.get(f"/login/lien/{token}").status_code == 303
        assert late.get(f"/login/lien/{token}").status_code == 303
        page = early.get("/login/mot-de-passe")
        assert page.status_code == 200
        assert "<h1>Choisissez votre mot de passe</h1>" in page.get_data(as_text=True)
        assert "Compte : paul@example.org" in page.get_data(as_text=True)
        saved = early.submit("/login/mot-de-passe",
                             {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 200

    assert reload(app, account.id).status == AccountStatus.active
    # The link used, another browser that had opened it holds nothing.
    with clock.frozen_at(sent + dt.timedelta(days=7) - dt.timedelta(seconds=1)):
        assert_gone(late.get("/login/mot-de-passe"))
    with clock.frozen_at(sent + dt.timedelta(days=7)):
        assert_gone(after.get(f"/login/lien/{token}"))


def test_an_activation_link_expires_seven_days_after_its_sending(
        app: Flask, browser: Callable[[], Browser], instance_path: Path) -> None:
    with clock.frozen_at(START):
        account = invite(app, "paul@example.org")
    sent = START + dt.timedelta(days=2)
    send(app, sent)
    token = latest_token(instance_path, ACTIVATION_SUBJECT)
    opened_in_time = browser()
    with clock.frozen_at(sent + dt.timedelta(days=7) - dt.timedelta(seconds=1)):
        csrf = open_form(opened_in_time, token)

    with clock.frozen_at(sent + dt.timedelta(days=7)):
        assert_gone(browser().get(f"/login/lien/{token}"))
        # Opened before the expiry, submitted after it: too late as well.
        assert_gone(submit_later(opened_in_time, csrf))
        assert_gone(opened_in_time.get("/login/mot-de-passe"))
    stale = reload(app, account.id)
    assert (stale.status, stale.password_hash) == (AccountStatus.invited, None)
    assert tokens(app) == [("activation", sent + dt.timedelta(days=7), None)]


def test_a_reset_link_works_one_hour_from_its_sending(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser],
        instance_path: Path) -> None:
    account = make_account(Role.moderator, "marie@example.org")
    with clock.frozen_at(START):
        assert forgot(browser(), "marie@example.org").status_code == 200
    sent = START + dt.timedelta(minutes=10)
    send(app, sent)
    token = latest_token(instance_path, RESET_SUBJECT)
    assert tokens(app) == [("reset", sent + dt.timedelta(hours=1), None)]

    with clock.frozen_at(sent + dt.timedelta(hours=1)):
        assert_gone(browser().get(f"/login/lien/{token}"))
    client = browser()
    with clock.frozen_at(sent + dt.timedelta(minutes=59, seconds=59)):
        assert client.get(f"/login/lien/{token}").status_code == 303
        page = client.get("/login/mot-de-passe").get_data(as_text=True)
        assert "<h1>Choisissez un nouveau mot de passe</h1>" in page
        saved = client.submit("/login/mot-de-passe",
                              {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 200

    assert browser().sign_in("marie@example.org", PASSWORD).status_code == 422
    assert browser().sign_in("marie@example.org", NEW_PASSWORD).status_code == 303
    [event] = events(app, "account.password_reset")
    assert (event.actor_id, event.object_id, event.changes) == (
        account.id, str(account.id), {"sessions_ended": 0})


# --- Single use, and GET uses nothing -------------------------------------------------

def test_a_link_works_once(app: Flask, browser: Callable[[], Browser],
                           instance_path: Path) -> None:
    account = invite(app, "paul@example.org")
    send(app)
    token = latest_token(instance_path, ACTIVATION_SUBJECT)
    client = browser()
    assert choose_password(client, token) == (303, 200)
    hash_after_first_use = reload(app, account.id).password_hash

    assert_gone(client.get(f"/login/lien/{token}"))
    assert_gone(browser().get(f"/login/lien/{token}"))
    assert choose_password(browser(), token, "Autre-Chose-Tres-Longue-77") == (410, 0)

    assert reload(app, account.id).password_hash == hash_after_first_use
    assert len(events(app, "account.activated")) == 1
    [(_, _, used)] = tokens(app)
    assert used is not None


def test_a_link_scanner_s_get_uses_nothing(app: Flask, browser: Callable[[], Browser],
                                           instance_path: Path) -> None:
    account = invite(app, "paul@example.org")
    send(app)
    token = latest_token(instance_path, ACTIVATION_SUBJECT)
    scanner = browser()
    # A mail filter fetches the link and follows its redirect, twice.
    for _ in range(2):
        assert scanner.get(f"/login/lien/{token}").status_code == 303
        assert scanner.get("/login/mot-de-passe").status_code == 200
    assert tokens(app)[0][2] is None

    assert choose_password(browser(), token) == (303, 200)

    assert reload(app, account.id).status == AccountStatus.active
    assert browser().sign_in("paul@example.org", NEW_PASSWORD).status_code == 303


def test_the_link_of_a_disabled_account_opens_nothing(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser],
        instance_path: Path) -> None:
    with clock.frozen_at(START):
        invited = invite(app, "paul@example.org")
    active = make_account(Role.moderator, "marie@example.org")
    with clock.frozen_at(START):
        forgot(browser(), "marie@example.org")
        send(app, START)
    activation = latest_token(instance_path, ACTIVATION_SUBJECT)
    reset = latest_token(instance_path, RESET_SUBJECT)
    opened = browser()
    with clock.frozen_at(START):
        csrf = open_form(opened, reset)
    with app.app_context():
        for account_id in (invited.id, active.id):
            operations.disable(db.session.get(Account, account_id), by=None, actor_role="cli")
        db.session.commit()

    with clock.frozen_at(START + dt.timedelta(minutes=1)):
        assert choose_password(browser(), activation) == (410, 0)
        assert choose_password(browser(), reset) == (410, 0)
        assert_gone(submit_later(opened, csrf))

    assert reload(app, invited.id).password_hash is None
    assert reload(app, active.id).status == AccountStatus.disabled
    assert browser().sign_in("marie@example.org", PASSWORD).status_code == 422
    assert events(app, "account.activated") == events(app, "account.password_reset") == []


def test_the_links_of_a_disabled_account_stay_dead_once_it_is_enabled_again(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser],
        instance_path: Path) -> None:
    # Disabled because someone else read its mailbox; enabled again for its owner, who
    # gets a new email. The link the other person holds must not open the account.
    with clock.frozen_at(START):
        account = invite(app, "paul@example.org")
    admin = make_account(Role.admin)
    send(app, START)
    [leaked] = [token_in(message) for message in mailbox(instance_path)]
    with app.app_context(), clock.frozen_at(START + dt.timedelta(hours=1)):
        found = db.session.get(Account, account.id)
        operations.disable(found, by=db.session.get(Account, admin.id))
        db.session.commit()
        operations.enable(found, by=db.session.get(Account, admin.id))
        db.session.commit()
    send(app, START + dt.timedelta(hours=1))
    fresh = token_in(mailbox(instance_path)[-1])

    with clock.frozen_at(START + dt.timedelta(hours=2)):
        assert choose_password(browser(), leaked, "Mot-De-Passe-Du-Voleur-66") == (410, 0)
        assert choose_password(browser(), fresh) == (303, 200)


def test_a_password_chosen_with_a_link_ends_every_session_and_every_other_link(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser],
        instance_path: Path) -> None:
    account = make_account(Role.moderator, "marie@example.org")
    here, there = browser(), browser()
    for client in (here, there):
        assert client.sign_in("marie@example.org").status_code == 303
    with clock.frozen_at(START):
        forgot(browser(), "marie@example.org")
        send(app, START)
    with clock.frozen_at(START + dt.timedelta(minutes=3)):
        forgot(browser(), "marie@example.org")
        send(app, START + dt.timedelta(minutes=3))
    first, second = [token_in(m) for m in mailbox(instance_path)]

    with clock.frozen_at(START + dt.timedelta(minutes=5)):
        assert choose_password(browser(), second) == (303, 200)
        assert choose_password(browser(), first) == (410, 0)
        # The sessions of before the reset are over, on every browser.
        for client in (here, there):
            response = client.get("/admin/")
            assert response.status_code == 302
            assert response.headers["Location"] == "/login?next=/admin/"

    used = START + dt.timedelta(minutes=5)
    assert tokens(app) == [("reset", START + dt.timedelta(hours=1), used),
                           ("reset", START + dt.timedelta(minutes=63), used)]
    [event] = events(app, "account.password_reset")
    assert (event.actor_id, event.changes) == (account.id, {"sessions_ended": 2})
    assert browser().sign_in("marie@example.org", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(("password", "confirm", "error"), [
    ("Court-1", "Court-1", "Choisissez un mot de passe d’au moins 12 caractères."),
    ("password1234", "password1234",
     "Ce mot de passe est trop courant ou trop facile à deviner : ajoutez des mots à vous, "
     "sans rapport avec votre nom, votre adresse ou avis."),
    ("paul.durand2026", "paul.durand2026",
     "Ce mot de passe est trop courant ou trop facile à deviner : ajoutez des mots à vous, "
     "sans rapport avec votre nom, votre adresse ou avis."),
    ("x" * 257, "x" * 257, "Ce mot de passe est trop long."),
    (NEW_PASSWORD, NEW_PASSWORD + "!", "Les deux mots de passe sont différents."),
    ("", "", "Choisissez un mot de passe."),
])
def test_the_password_rules_hold_on_the_link_s_page(
        app: Flask, browser: Callable[[], Browser], instance_path: Path, password: str,
        confirm: str, error: str) -> None:
    account = invite(app, "paul.durand@example.org")
    send(app)
    token = latest_token(instance_path, ACTIVATION_SUBJECT)
    client = browser()
    assert client.get(f"/login/lien/{token}").status_code == 303

    refused = client.submit("/login/mot-de-passe", {"password": password, "confirm": confirm})

    assert refused.status_code == 422
    assert error in refused.get_data(as_text=True)
    unchanged = reload(app, account.id)
    assert (unchanged.status, unchanged.password_hash) == (AccountStatus.invited, None)
    assert tokens(app)[0][2] is None
    assert events(app, "account.activated") == []
    # The link still works for a password that meets the rules.
    saved = client.submit("/login/mot-de-passe",
                          {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 200
    assert reload(app, account.id).status == AccountStatus.active


# --- Forgotten password ---------------------------------------------------------------------

def without_csrf(response: TestResponse) -> str:
    return _CSRF_VALUE.sub(r"\1\2", response.get_data(as_text=True))


def test_the_forgotten_password_page_answers_the_same_whatever_the_address(
        app: Flask, make_account: Callable[..., Account],
        browser: Callable[[], Browser]) -> None:
    known = make_account(Role.moderator, "marie@example.org")
    disabled = make_account(Role.moderator, "parti@example.org")
    with app.app_context():
        operations.disable(db.session.get(Account, disabled.id), by=None, actor_role="cli")
        db.session.commit()
    before = len(events(app))

    answers = [forgot(browser(), address) for address in (
        "Marie@Example.org", "inconnu@example.org", "parti@example.org", "pas-une-adresse")]

    assert [answer.status_code for answer in answers] == [200] * 4
    pages = {without_csrf(answer) for answer in answers}
    assert len(pages) == 1
    assert "<h1>Consultez vos courriels</h1>" in pages.pop()
    assert messages(app) == [("reset", "queued", 0)]
    journal = events(app)[before:]
    assert [(e.action, e.actor_id, e.actor_role, e.object_id, e.changes) for e in journal] == [
        ("account.reset_requested", None, "anonymous", str(known.id), {})]


def test_at_most_one_reset_email_every_two_minutes(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser],
        instance_path: Path) -> None:
    make_account(Role.moderator, "marie@example.org")
    for moment in (START, START + dt.timedelta(minutes=1, seconds=59)):
        with clock.frozen_at(moment):
            assert forgot(browser(), "marie@example.org").status_code == 200
    assert messages(app) == [("reset", "queued", 0)]

    with clock.frozen_at(START + dt.timedelta(minutes=2, seconds=1)):
        assert forgot(browser(), "marie@example.org").status_code == 200

    assert messages(app) == [("reset", "queued", 0), ("reset", "queued", 0)]
    assert send(app, START + dt.timedelta(minutes=3)) == {"sent": 2}
    assert [m["Subject"] for m in mailbox(instance_path)] == [RESET_SUBJECT] * 2
    assert len(events(app, "account.reset_requested")) == 2


def test_an_invited_account_that_forgot_gets_its_activation_email_again(
        app: Flask, browser: Callable[[], Browser], instance_path: Path) -> None:
    with clock.frozen_at(START):
        account = invite(app, "paul@example.org")
    send(app, START)
    with clock.frozen_at(START + dt.timedelta(days=3)):
        assert forgot(browser(), "paul@example.org").status_code == 200
    send(app, START + dt.timedelta(days=3))

    assert messages(app) == [("activation", "sent", 1), ("activation", "sent", 1)]
    assert [m["Subject"] for m in mailbox(instance_path)] == [ACTIVATION_SUBJECT] * 2
    assert [purpose for purpose, _, _ in tokens(app)] == ["activation", "activation"]
    newest = token_in(mailbox(instance_path)[-1])
    with clock.frozen_at(START + dt.timedelta(days=3, minutes=5)):
        client = browser()
        assert client.get(f"/login/lien/{newest}").status_code == 303
        page = client.get("/login/mot-de-passe").get_data(as_text=True)
        assert "<h1>Choisissez votre mot de passe</h1>" in page
        saved = client.submit("/login/mot-de-passe",
                              {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 200
    assert reload(app, account.id).status == AccountStatus.active
    assert len(events(app, "account.activated")) == 1
    assert events(app, "account.password_reset") == []


def test_the_journal_never_holds_a_link(app: Flask, browser: Callable[[], Browser],
                                        instance_path: Path) -> None:
    with clock.frozen_at(START):
        account = invite(app, "paul@example.org")
    send(app, START)
    with clock.frozen_at(START + dt.timedelta(minutes=1)):
        assert choose_password(browser(), token_in(mailbox(instance_path)[0])) == (303, 200)
    with clock.frozen_at(START + dt.timedelta(minutes=2)):
        forgot(browser(), "paul@example.org")
    send(app, START + dt.timedelta(minutes=2))
    with clock.frozen_at(START + dt.timedelta(minutes=3)):
        assert choose_password(browser(), token_in(mailbox(instance_path)[1]),
                               "Troisieme-Lanterne-Bleue-14") == (303, 200)

    journal = events(app)
    assert [(e.action, e.actor_id, e.actor_role, e.object_id, e.changes) for e in journal] == [
        ("account.created", None, "cli", str(account.id),
         {"role": "region", "scope": "52", "status": "invited"}),
        ("account.activated", account.id, "region", str(account.id),
         {"sessions_ended": 0, "status": ["invited", "active"]}),
        ("account.reset_requested", None, "anonymous", str(account.id), {}),
        ("account.password_reset", account.id, "region", str(account.id),
         {"sessions_ended": 0}),
    ]
    with app.app_context():
        text = repr(db.session.execute(sa.select(AuditEvent.__table__)).all())
    for token in [token_in(message) for message in mailbox(instance_path)]:
        assert token not in text
    assert "/login/lien/" not in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountMessage)) == 2
