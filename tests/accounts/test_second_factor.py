"""TOTP second factor: set up, required by role, each code once, recovery codes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, RecoveryCode, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import PASSWORD, Browser

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def account_row(app: Flask, account_id: int) -> Account:
    with app.app_context():
        found = db.session.get(Account, account_id)
        assert found is not None
        return found


def shown_secret(html: str) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert match, "the page shows no key"
    return match.group(1).replace(" ", "")


def shown_codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>", html)


def test_a_role_that_requires_it_sets_it_up_before_entering(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]) -> None:
    account = make_account(Role.admin)
    client = browser()

    response = client.submit("/login", {"email": account.email, "password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["Location"] == "/login/double-authentification"
    # Not signed in yet: the back office still sends to /login.
    assert client.get("/admin/").status_code == 302
    setup = client.get("/login/double-authentification")
    html = setup.get_data(as_text=True)
    secret = shown_secret(html)
    assert 'src="data:image/svg+xml;base64,' in html
    wrong = client.submit("/login/double-authentification", {"code": "000000"})
    assert wrong.status_code == 422
    assert account_row(app, account.id).totp_enabled_dt is None

    done = client.submit("/login/double-authentification",
                         {"code": pyotp.TOTP(secret).now()})

    assert done.status_code == 200
    codes = shown_codes(done.get_data(as_text=True))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get("/admin/").status_code == 200
    stored = account_row(app, account.id)
    assert stored.totp_secret == secret
    assert stored.totp_enabled_dt is not None
    with app.app_context():
        digests = db.session.scalars(sa.select(RecoveryCode.digest)
                                     .where(RecoveryCode.account_id == account.id)).all()
    # Only hashes: no code is in the table.
    assert len(digests) == 10
    assert not any(code.encode() in digest for code in codes for digest in digests)
    assert actions(app)[-3:] == ["account.sign_in_failed", "account.totp_enabled",
                                 "account.sign_in"]


def test_the_code_is_asked_after_the_password(app: Flask, make_account: Callable[..., Account],
                                              browser: Callable[[], Browser]) -> None:
    account = make_account(Role.moderator, totp_secret=SECRET)
    client = browser()

    response = client.submit("/login", {"email": account.email, "password": PASSWORD})

    assert response.headers["Location"] == "/login/code"
    assert client.get("/admin/").status_code == 302
    assert client.submit("/login/code", {"code": "123456"}).status_code == 422
    assert client.submit("/login/code", {"code": pyotp.TOTP(SECRET).now()}).status_code == 303
    assert client.get("/admin/").status_code == 200
    assert account_row(app, account.id).failed_logins == 0


def test_a_code_opens_one_session_only(app: Flask, make_account: Callable[..., Account],
                                       browser: Callable[[], Browser]) -> None:
    """A code seen over a shoulder, replayed within its 30 seconds, opens nothing."""
    account = make_account(Role.moderator, totp_secret=SECRET)
    moment = clock.now()
    code = pyotp.TOTP(SECRET).at(moment)
    first, second = browser(), browser()
    with clock.frozen_at(moment):
        first.submit("/login", {"email": account.email, "password": PASSWORD})
        second.submit("/login", {"email": account.email, "password": PASSWORD})
        assert first.submit("/login/code", {"code": code}).status_code == 303
        assert second.submit("/login/code", {"code": code}).status_code == 422
    # The previous step's code is accepted (clock drift), not an older one.
    later = moment + dt.timedelta(seconds=30)
    with clock.frozen_at(later):
        third = browser()
        third.submit("/login", {"email": account.email, "password": PASSWORD})
        assert third.submit("/login/code",
                            {"code": pyotp.TOTP(SECRET).at(later)}).status_code == 303


def test_the_password_step_lapses(app: Flask, make_account: Callable[..., Account],
                                  browser: Callable[[], Browser]) -> None:
    account = make_account(Role.moderator, totp_secret=SECRET)
    client = browser()
    start = clock.now()
    with clock.frozen_at(start):
        client.submit("/login", {"email": account.email, "password": PASSWORD})
    with clock.frozen_at(start + dt.timedelta(minutes=4, seconds=59)):
        assert client.get("/login/code").status_code == 200
    with clock.frozen_at(start + dt.timedelta(minutes=5, seconds=1)):
        response = client.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_wrong_codes_count_towards_the_lock(app: Flask, make_account: Callable[..., Account],
                                           browser: Callable[[], Browser]) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    account = make_account(Role.moderator, totp_secret=SECRET)
    client = browser()
    client.submit("/login", {"email": account.email, "password": PASSWORD})
    for _ in range(3):
        assert client.submit("/login/code", {"code": "000000"}).status_code == 422

    # Locked: even the right code sends back to the start.
    response = client.submit("/login/code", {"code": pyotp.TOTP(SECRET).now()},
                             form_page="/login")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302
    assert account_row(app, account.id).locked_until_dt is not None


def test_recovery_codes_work_once_each(app: Flask, make_account: Callable[..., Account],
                                       browser: Callable[[], Browser]) -> None:
    account = make_account(Role.moderator)
    client = browser()
    client.sign_in(account.email)
    page = client.get("/admin/compte/double-authentification").get_data(as_text=True)
    secret = shown_secret(page)
    done = client.submit("/admin/compte/double-authentification",
                         {"code": pyotp.TOTP(secret).now()})
    codes = shown_codes(done.get_data(as_text=True))
    assert len(codes) == 10
    client.sign_out()

    other = browser()
    other.submit("/login", {"email": account.email, "password": PASSWORD})
    # Typed in capitals, without dashes: the same code.
    typed = codes[0].replace("-", "").upper()
    assert other.submit("/login/code", {"code": typed}).status_code == 303
    again = browser()
    again.submit("/login", {"email": account.email, "password": PASSWORD})
    assert again.submit("/login/code", {"code": codes[0]}).status_code == 422
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "account.recovery_code_used")).all()
    assert event.changes == {"left": 9}


def test_new_recovery_codes_replace_the_old_ones(app: Flask,
                                                 make_account: Callable[..., Account],
                                                 browser: Callable[[], Browser]) -> None:
    account = make_account(Role.region, region="52")
    client = browser()
    client.sign_in(account.email)
    secret = shown_secret(client.get("/admin/compte/double-authentification")
                          .get_data(as_text=True))
    old = shown_codes(client.submit("/admin/compte/double-authentification",
                                    {"code": pyotp.TOTP(secret).now()}).get_data(as_text=True))
    wrong = client.submit("/admin/compte/codes-de-secours", {"current": "not it"},
                          form_page="/admin/compte")
    assert wrong.status_code == 422

    renewed = client.submit("/admin/compte/codes-de-secours", {"current": PASSWORD},
                            form_page="/admin/compte")

    new = shown_codes(renewed.get_data(as_text=True))
    assert len(new) == 10
    assert not set(new) & set(old)
    client.sign_out()
    other = browser()
    other.submit("/login", {"email": account.email, "password": PASSWORD})
    assert other.submit("/login/code", {"code": old[1]}).status_code == 422
    assert other.submit("/login/code", {"code": new[1]}).status_code == 303


def test_owners_may_turn_it_off_unless_their_role_requires_it(
        app: Flask, make_account: Callable[..., Account], browser: Callable[[], Browser]) -> None:
    moderator = make_account(Role.moderator, totp_secret=SECRET)
    client = browser()
    client.sign_in(moderator.email, totp_secret=SECRET)
    assert client.submit("/admin/compte/double-authentification/desactiver",
                         {"current": "wrong"}, form_page="/admin/compte").status_code == 422
    assert account_row(app, moderator.id).has_totp

    response = client.submit("/admin/compte/double-authentification/desactiver",
                             {"current": PASSWORD}, form_page="/admin/compte")

    assert response.status_code == 303
    assert not account_row(app, moderator.id).has_totp
    assert browser().sign_in(moderator.email).headers["Location"] == "/admin/"

    admin = make_account(Role.admin, totp_secret=SECRET)
    admin_client = browser()
    admin_client.sign_in(admin.email, totp_secret=SECRET)
    refused = admin_client.submit("/admin/compte/double-authentification/desactiver",
                                  {"current": PASSWORD}, form_page="/admin/compte")
    assert refused.status_code == 403
    assert account_row(app, admin.id).has_totp


def test_an_admin_removes_a_lost_phone_and_its_owner_sets_a_new_one(
        app: Flask, make_account: Callable[..., Account], signed_in: Callable[..., Browser],
        browser: Callable[[], Browser]) -> None:
    lost = make_account(Role.admin, totp_secret=SECRET)
    owner = browser()
    owner.sign_in(lost.email, totp_secret=SECRET)
    admin = signed_in(Role.admin)

    response = admin.submit(f"/admin/comptes/{lost.id}/double-authentification", {},
                            form_page=f"/admin/comptes/{lost.id}")

    assert response.status_code == 303
    assert owner.get("/admin/").status_code == 302  # its sessions ended
    again = browser()
    assert again.submit("/login", {"email": lost.email, "password": PASSWORD}) \
        .headers["Location"] == "/login/double-authentification"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                                 .where(RecoveryCode.account_id == lost.id)) == 0


@pytest.mark.parametrize("roles", [(), ("admin", "moderator")])
def test_required_roles_follow_the_setting(app: Flask, make_account: Callable[..., Account],
                                           browser: Callable[[], Browser],
                                           roles: tuple[str, ...]) -> None:
    app.config["REQUIRE_TOTP_ROLES"] = roles
    admin = make_account(Role.admin)
    moderator = make_account(Role.moderator)
    region = make_account(Role.region, region="52")
    expected = {account.email: ("/login/double-authentification"
                                if str(account.role) in roles else "/admin/")
                for account in (admin, moderator, region)}
    for email, location in expected.items():
        assert browser().submit("/login", {"email": email, "password": PASSWORD}) \
            .headers["Location"] == location
