"""Accounts for tests: a factory, and a browser-like client that signs in through the
real form (CSRF token included).

Requests run outside any app context the test holds (as in production, each request
then has its own app context, database session and ``g``): tests read and write the
database in ``with app.app_context():`` blocks between requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from avis.accounts import operations
from avis.accounts.models import Account, Role
from avis.db import db

#: A password every rule accepts.
PASSWORD = "Chouette-Velo-Rouge-92"
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def create_account(role: Role | str = Role.admin, email: str | None = None, *,
                   password: str | None = PASSWORD, siret: str | None = None,
                   region: str | None = None, funders: tuple[int, ...] = (),
                   totp_secret: str | None = None) -> Account:
    """A committed account (active with ``password``; invited without). With
    ``totp_secret`` its second factor is on."""
    role = Role(role)
    email = email or f"{role.value}.{next(_numbers)}@example.org"
    scope = operations.AccountScope.build(role, establishment=siret, region=region,
                                          funders=funders)
    account = operations.create(email, scope, password=password, actor_role="cli")
    if totp_secret:
        account.totp_secret = totp_secret
        from avis import clock

        account.totp_enabled_dt = clock.now()
    db.session.commit()
    return account


class _Numbers:
    def __init__(self) -> None:
        self.n = 0

    def __next__(self) -> int:
        self.n += 1
        return self.n


_numbers = _Numbers()


@dataclass
class Browser:
    """A test client that keeps cookies and posts forms with their CSRF token."""

    client: FlaskClient

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def submit(self, path: str, data: dict[str, Any], *, form_page: str | None = None,
               **kwargs: Any) -> TestResponse:
        """POST ``data`` to ``path`` with the CSRF token of ``form_page`` (default: the
        page at ``path``, or the back-office home for action URLs)."""
        page = self.client.get(form_page or path)
        token = csrf_token(page.get_data(as_text=True))
        return self.client.post(path, data={**data, "csrf_token": token}, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD, *,
                totp_secret: str | None = None) -> TestResponse:
        response = self.submit("/login", {"email": email, "password": password})
        location = response.headers.get("Location", "")
        if location.endswith("/login/code"):
            assert totp_secret, "this account needs its second factor"
            response = self.submit("/login/code", {"code": pyotp.TOTP(totp_secret).now()})
        return response

    def sign_out(self) -> TestResponse:
        return self.submit("/logout", {}, form_page="/admin/")


@pytest.fixture
def browser(app: Flask) -> Callable[[], Browser]:
    """``browser()``: a new client, with its own cookies."""
    return lambda: Browser(app.test_client())


@pytest.fixture
def make_account(app: Flask) -> Callable[..., Account]:
    """``make_account(role, …)``: ``create_account`` in its own app context."""

    def make(*args: Any, **kwargs: Any) -> Account:
        with app.app_context():
            return create_account(*args, **kwargs)

    return make


@pytest.fixture
def signed_in(make_account: Callable[..., Account],
              browser: Callable[[], Browser]) -> Callable[..., Browser]:
    """``signed_in(role, **scope)``: a client signed in with a new account of that role
    (admins get their second factor on, as the default settings require)."""

    def sign_in(role: Role | str = Role.admin, **options: Any) -> Browser:
        secret = options.pop("totp_secret", None)
        if Role(role) == Role.admin and secret is None:
            secret = pyotp.random_base32()
        account = make_account(role, totp_secret=secret, **options)
        client = browser()
        response = client.sign_in(account.email, totp_secret=secret)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        client.account = account  # type: ignore[attr-defined]
        client.totp_secret = secret  # type: ignore[attr-defined]
        return client

    return sign_in
