"""Signing in and out: one answer for every failure, lock-out, session rotation,
lifetimes, and sessions ended everywhere by a disable or a password change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock, create_app
from avis.accounts import operations
from avis.accounts.models import Account, AccountSession, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import PASSWORD, Browser, csrf_token
from tests.conftest import CHEAP_ARGON2


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def reload(app: Flask, account: Account) -> Account:
    with app.app_context():
        found = db.session.get(Account, account.id)
        assert found is not None
        return found


def test_right_password_opens_the_home_of_the_role(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.region, region="52")
    client = browser()

    response = client.sign_in(account.email)

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Pays de la Loire" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    [event] = events(app, "account.sign_in")
    assert event.actor_id == account.id
    assert event.changes == {"method": "password"}
    assert reload(app, account).last_login_dt is not None


def test_email_is_matched_whatever_its_case_and_blanks(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.moderator, "marie.curie@example.org")

    response = browser().sign_in("  Marie.Curie@EXAMPLE.org ")

    assert response.status_code == 303
    assert reload(app, account).last_login_dt is not None


def test_unknown_address_and_wrong_password_read_the_same(
    app: Flask,
    make_account: Callable[..., Account],
    browser: Callable[[], Browser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = make_account(Role.moderator)
    verified: list[str] = []
    original = argon2.PasswordHasher.verify

    def counting_verify(self: argon2.PasswordHasher, hash: str, password: str) -> bool:
        # The library's own call, counted: each attempt must hash once, whatever its case.
        verified.append(argon2.extract_parameters(hash).__repr__())
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)

    unknown = browser().sign_in("nobody@example.org", "Whatever-Password-1")
    wrong = browser().sign_in(account.email, "Whatever-Password-1")

    assert unknown.status_code == wrong.status_code == 422

    def text(response, typed: str) -> str:  # the page without its token and typed address
        return csrf_free(response.get_data(as_text=True)).replace(typed, "…")

    assert text(unknown, "nobody@example.org") == text(wrong, account.email)
    assert "L’adresse ou le mot de passe n’est pas le bon" in text(wrong, account.email)
    # One argon2 verification each, with the same parameters: the same work, the same time.
    assert len(verified) == 2
    assert verified[0] == verified[1]
    reasons = [event.changes["reason"] for event in events(app, "account.sign_in_failed")]
    assert reasons == ["unknown_email", "wrong_password"]
    # The typed address of an unknown account is not kept anywhere.
    assert "nobody@example.org" not in str(
        [e.changes for e in events(app, "account.sign_in_failed")]
    )


def csrf_free(html: str) -> str:
    token = csrf_token(html)
    return html.replace(token, "")


def test_disabled_and_invited_accounts_cannot_sign_in(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    disabled = make_account(Role.region, region="52")
    with app.app_context():
        operations.disable(db.session.get(Account, disabled.id), by=None, actor_role="cli")
        db.session.commit()
    invited = make_account(Role.region, region="52", password=None)

    for account in (disabled, invited):
        response = browser().sign_in(account.email)
        assert response.status_code == 422
        assert "L’adresse ou le mot de passe n’est pas le bon" in response.get_data(as_text=True)
    reasons = [event.changes["reason"] for event in events(app, "account.sign_in_failed")]
    assert reasons == ["disabled", "invited"]


def test_the_account_locks_after_the_limit_and_opens_again_after_the_delay(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCK_MINUTES=15)
    account = make_account(Role.moderator)
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(3):
            assert browser().sign_in(account.email, "Not-The-Password-1").status_code == 422
        locked = reload(app, account)
        assert locked.failed_logins == 3
        assert locked.locked_until_dt == start + dt.timedelta(minutes=15)
        # The right password does not open a locked account, and says nothing more.
        refused = browser().sign_in(account.email)
        assert refused.status_code == 422
        assert "L’adresse ou le mot de passe n’est pas le bon" in refused.get_data(as_text=True)
    with clock.frozen_at(start + dt.timedelta(minutes=14, seconds=59)):
        assert browser().sign_in(account.email).status_code == 422
    with clock.frozen_at(start + dt.timedelta(minutes=15, seconds=1)):
        assert browser().sign_in(account.email).status_code == 303
    opened = reload(app, account)
    assert opened.failed_logins == 0
    assert opened.locked_until_dt is None
    failures = events(app, "account.sign_in_failed")
    assert [e.changes["reason"] for e in failures] == ["wrong_password"] * 3 + ["locked"] * 2
    assert failures[2].changes["locked_minutes"] == 15


def test_signing_in_rotates_the_session(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.moderator)
    client = browser()
    client.get("/login?lang=en")
    with client.client.session_transaction() as session:
        session["planted"] = "by an attacker who fixed this cookie"
        before = dict(session)

    client.sign_in(account.email)

    with client.client.session_transaction() as session:
        after = dict(session)
    assert "planted" not in after
    assert after["lang"] == "en"  # the chosen language survives
    assert after["_user_id"] != before.get("_user_id")
    first_token = after["_user_id"]
    client.sign_out()
    client.sign_in(account.email)
    with client.client.session_transaction() as session:
        assert session["_user_id"] != first_token
    # Only hashes are stored: the cookie's token is in no row.
    with app.app_context():
        stored = db.session.scalars(sa.select(AccountSession.digest)).all()
    assert stored
    assert all(first_token.encode() not in digest for digest in stored)


def test_sign_out_is_a_post_with_its_csrf_token(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.moderator)
    client = browser()
    client.sign_in(account.email)

    assert client.get("/logout").status_code == 405
    assert client.client.post("/logout", data={}).status_code == 400  # no CSRF token
    assert client.get("/admin/").status_code == 200

    response = client.sign_out()

    assert response.status_code == 200
    assert "Vous êtes déconnecté" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountSession)) == 0
    assert len(events(app, "account.sign_out")) == 1


def test_idle_and_absolute_lifetimes(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    app.config.update(SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=2)
    account = make_account(Role.moderator)
    start = clock.now()
    client = browser()
    with clock.frozen_at(start):
        client.sign_in(account.email)
    # Active every 25 minutes: the idle limit never hits, the absolute one does.
    moment = start
    while moment + dt.timedelta(minutes=25) < start + dt.timedelta(hours=2):
        moment += dt.timedelta(minutes=25)
        with clock.frozen_at(moment):
            assert client.get("/admin/").status_code == 200, moment - start
    with clock.frozen_at(start + dt.timedelta(hours=2)):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

    idle = browser()
    with clock.frozen_at(start):
        idle.sign_in(account.email)
    with clock.frozen_at(start + dt.timedelta(minutes=29, seconds=59)):
        assert idle.get("/admin/").status_code == 200
    with clock.frozen_at(start + dt.timedelta(minutes=59, seconds=58)):
        assert idle.get("/admin/").status_code == 200
    with clock.frozen_at(start + dt.timedelta(minutes=90)):
        assert idle.get("/admin/").status_code == 302


def test_unauthenticated_back_office_requests_go_to_sign_in_and_come_back(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.moderator)
    client = browser()

    response = client.get("/admin/organismes?q=x")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/organismes?q%3Dx"
    signed = client.submit(
        "/login?next=/admin/organismes?q%3Dx", {"email": account.email, "password": PASSWORD}
    )
    assert signed.headers["Location"] == "/admin/organismes?q=x"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/\\evil.example",
        "/public",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_redirects_off_the_back_office(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser], target: str
) -> None:
    account = make_account(Role.moderator)
    client = browser()
    from urllib.parse import quote

    response = client.submit(
        f"/login?next={quote(target)}", {"email": account.email, "password": PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


@pytest.fixture
def second_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another process of the same deployment: its own app, engine and cookies' key."""
    instance = tmp_path / "instance-2"
    instance.mkdir()
    other = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "PAGE_CACHE_SECONDS": 0,
            **CHEAP_ARGON2,
        },
        instance_path=instance,
    )
    other.testing = True
    yield other
    with other.app_context():
        db.engine.dispose()


def test_disabling_ends_the_sessions_of_every_process(
    app: Flask,
    make_account: Callable[..., Account],
    second_app: Flask,
    browser: Callable[[], Browser],
) -> None:
    """Two application instances (two processes of a deployment) on one database."""
    account = make_account(Role.region, region="52")
    client = browser()
    client.sign_in(account.email)
    assert client.get("/admin/").status_code == 200
    admin = Browser(second_app.test_client())
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    admin_account = make_account(Role.admin, totp_secret=secret)
    admin.sign_in(admin_account.email, totp_secret=secret)
    response = admin.submit(
        f"/admin/comptes/{account.id}/desactiver", {}, form_page=f"/admin/comptes/{account.id}"
    )
    assert response.status_code == 303

    assert client.get("/admin/").status_code == 302
    assert reload(app, account).status == AccountStatus.disabled
    [event] = events(app, "account.disabled")
    assert event.actor_id == admin_account.id
    assert event.changes["sessions_ended"] == 1


def test_a_password_change_ends_the_other_sessions_everywhere(
    app: Flask,
    make_account: Callable[..., Account],
    second_app: Flask,
    browser: Callable[[], Browser],
) -> None:
    account = make_account(Role.organisation, siret="12345678200010")
    elsewhere = browser()
    elsewhere.sign_in(account.email)
    here = Browser(second_app.test_client())
    here.sign_in(account.email)
    response = here.submit(
        "/admin/compte/mot-de-passe",
        {
            "current": PASSWORD,
            "password": "Nouveau-Cerf-Volant-31",
            "confirm": "Nouveau-Cerf-Volant-31",
        },
        form_page="/admin/compte",
    )
    assert response.status_code == 303
    # The browser that changed it stays signed in, under a new session.
    assert here.get("/admin/compte").status_code == 200

    assert elsewhere.get("/admin/").status_code == 302
    assert browser().sign_in(account.email).status_code == 422
    assert browser().sign_in(account.email, "Nouveau-Cerf-Volant-31").status_code == 303
    [event] = events(app, "account.password_changed")
    assert event.changes["sessions_ended"] == 2


def test_a_changed_hash_cost_rehashes_at_the_next_sign_in(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    account = make_account(Role.moderator)
    old_hash = reload(app, account).password_hash
    assert argon2.extract_parameters(old_hash).time_cost == 1

    app.config.update(ARGON2_TIME_COST=2)
    assert browser().sign_in(account.email).status_code == 303

    new_hash = reload(app, account).password_hash
    assert new_hash != old_hash
    assert argon2.extract_parameters(new_hash).time_cost == 2
    assert argon2.extract_parameters(new_hash).type == argon2.Type.ID
    assert browser().sign_in(account.email).status_code == 303


def test_sign_in_is_limited_per_address(
    app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]
) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = browser()
    statuses = [
        client.submit("/login", {"email": f"x{n}@example.org", "password": "nope"}).status_code
        for n in range(4)
    ]

    assert statuses == [422, 422, 422, 429]
    # Reading the form is not an attempt.
    assert client.get("/login").status_code == 200
