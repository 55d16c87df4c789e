"""Signed-in sessions, kept in the database and handed to Flask-Login.

The browser's signed cookie holds a random token; ``account_sessions`` holds its hash.
Signing in clears the cookie's previous content and mints a new token (the session id
rotates); disabling an account or changing its password deletes its rows, which ends
its sessions in every process at its next request. A session ends after
``SESSION_IDLE_MINUTES`` without a request and ``SESSION_MAX_HOURS`` after sign-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import Flask, current_app, g, session
from flask_login import LoginManager, login_user, logout_user

from avis import clock
from avis.accounts.models import Account, AccountSession, AccountStatus
from avis.db import db

#: ``last_seen_dt`` is written at most this often: not one write per request.
TOUCH_EVERY = dt.timedelta(minutes=1)
#: What survives a sign-in or sign-out in the cookie: the chosen language only.
KEPT_ACROSS_SIGN_IN = ("lang",)

login_manager = LoginManager()


class SignedIn:
    """What Flask-Login calls the user: the account with the session it came with."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, account: Account, token: str, account_session: AccountSession) -> None:
        self.account = account
        self.token = token
        self.session = account_session

    @property
    def is_active(self) -> bool:
        return self.account.status == AccountStatus.active

    def get_id(self) -> str:
        return self.token


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    # Lifetimes are ours (idle, absolute); Flask-Login's own checks of the address and
    # browser would only mark sessions "not fresh", which nothing here reads.
    login_manager.session_protection = None
    login_manager.login_message = None
    app.config.update(
        REMEMBER_COOKIE_DURATION=dt.timedelta(seconds=0),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=app.config["SESSION_MAX_HOURS"]),
    )
    app.before_request(_forget_previous_request)


def _forget_previous_request() -> None:
    """A request handled inside an app context already pushed (a test, a command) shares
    ``g`` with the requests before it: the signed-in user and the CSRF token Flask-Login
    and Flask-WTF keep there would be another browser's. Each request starts clean (a
    no-op when, as in production, every request has its own app context)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    """The account of the cookie's token, if its session is still alive. Reads only:
    ``touch`` writes, from the back office's request hook."""
    row = db.session.execute(
        sa.select(AccountSession, Account).join(Account, Account.id == AccountSession.account_id)
        .where(AccountSession.digest == digest(token))).first()
    if row is None:
        return None
    account_session, account = row
    if account.status != AccountStatus.active or _expired(account_session):
        return None
    return SignedIn(account, token, account_session)


def _expired(account_session: AccountSession) -> bool:
    config = current_app.config
    now = clock.now()
    idle = dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    longest = dt.timedelta(hours=config["SESSION_MAX_HOURS"])
    return (now - account_session.last_seen_dt >= idle
            or now - account_session.created_dt >= longest)


def signed_in_account() -> Account | None:
    """The account of this request if its user is already loaded (never loads it: the
    back office loads it at the start of its requests; public pages never do)."""
    user = g.get("_login_user")
    return user.account if isinstance(user, SignedIn) else None


def current() -> SignedIn | None:
    """The signed-in user of this request, loading it from the cookie if needed."""
    from flask_login import current_user

    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, SignedIn) else None


def touch(user: SignedIn) -> None:
    """Record activity (at most once a minute) and commit it at once: nothing else is
    in the transaction at the start of a request."""
    now = clock.now()
    if now - user.session.last_seen_dt < TOUCH_EVERY:
        return
    db.session.execute(sa.update(AccountSession).where(AccountSession.id == user.session.id)
                       .values(last_seen_dt=now))
    db.session.execute(sa.update(Account).where(Account.id == user.account.id)
                       .values(last_seen_dt=now))
    db.session.commit()


def start(account: Account) -> None:
    """Sign ``account`` in on this browser: a clean cookie, a new token, a new row. The
    caller commits (with the sign-in's audit event)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    account_session = AccountSession(digest=digest(token), account_id=account.id,
                                     created_dt=now, last_seen_dt=now)
    db.session.add(account_session)
    db.session.flush()
    _clear_cookie()
    session.permanent = True
    login_user(SignedIn(account, token, account_session))


def end() -> None:
    """Sign this browser out: its row is deleted (the caller commits)."""
    user = current()
    if user is not None:
        db.session.execute(sa.delete(AccountSession).where(AccountSession.id == user.session.id))
    logout_user()
    _clear_cookie()


def end_all(account_id: int, *, keep: SignedIn | None = None) -> int:
    """End every session of an account (except ``keep``'s); the caller commits."""
    statement = sa.delete(AccountSession).where(AccountSession.account_id == account_id)
    if keep is not None:
        statement = statement.where(AccountSession.id != keep.session.id)
    return db.session.execute(statement).rowcount


def count_for(account_id: int) -> int:
    """Sessions of an account that may still be alive (expired rows wait for pruning)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(AccountSession)
                             .where(AccountSession.account_id == account_id)) or 0


def prune_expired() -> int:
    """Delete rows of sessions past either lifetime (they open nothing already)."""
    config = current_app.config
    now = clock.now()
    return db.session.execute(sa.delete(AccountSession).where(sa.or_(
        AccountSession.last_seen_dt < now - dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        AccountSession.created_dt < now - dt.timedelta(hours=config["SESSION_MAX_HOURS"]),
    ))).rowcount


def _clear_cookie() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
