"""State changes of accounts. Each function changes the session and writes its audit
event; the caller (a view, a command, a job) commits once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyotp
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from avis import clock
from avis.accounts import passwords, sessions
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountStatus,
    AccountToken,
    RecoveryCode,
    Role,
    TokenPurpose,
)
from avis.audit.operations import record
from avis.catalog.geo import REGION_NAMES
from avis.db import db

#: How long an emailed link works.
TOKEN_LIFETIMES = {TokenPurpose.activation: dt.timedelta(days=7),
                   TokenPurpose.reset: dt.timedelta(hours=1)}
#: Recovery codes given when the second factor is turned on.
RECOVERY_CODES = 10
#: A second "forgotten password" email for the same account waits this long.
RESET_EMAIL_GAP = dt.timedelta(minutes=2)
#: Funder codes a region account may be limited to (see imports.rules.FUNDER_LABELS).
FUNDER_CODES = frozenset({0, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17})
#: Roles an admin may let read trainees' names and emails (``can_see_personal_data``).
PERSONAL_DATA_ROLES = frozenset({Role.region, Role.admin})


class AccountError(ValueError):
    """A request about an account that cannot be carried out; ``code`` names why, for
    the message shown in the user's language."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


# --- Validation --------------------------------------------------------------------

def normalise_email(raw: str) -> str:
    """The address as stored: trimmed, lowercased, syntax checked."""
    value = (raw or "").strip()
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise AccountError("invalid_email") from None
    return value.lower()


@dataclass(frozen=True)
class AccountScope:
    """A role and what it covers, checked."""

    role: Role
    region_code: str | None = None
    funder_codes: tuple[int, ...] = ()
    siren: str | None = None
    siret: str | None = None

    @classmethod
    def build(cls, role: str, *, establishment: str | None = None, region: str | None = None,
              funders: Iterable[int] = ()) -> AccountScope:
        """Check a role with its options: ``establishment`` is a 9-digit SIREN or a
        14-digit SIRET (organisation), ``region`` an INSEE code (region, moderator)."""
        try:
            role_value = Role(role)
        except ValueError:
            raise AccountError("invalid_role") from None
        establishment = (establishment or "").replace(" ", "") or None
        region = (region or "").strip() or None
        funder_codes = tuple(sorted({int(code) for code in funders}))
        if region is not None and region not in REGION_NAMES:
            raise AccountError("invalid_region")
        if any(code not in FUNDER_CODES for code in funder_codes):
            raise AccountError("invalid_funder")
        if role_value == Role.organisation:
            if region or funder_codes:
                raise AccountError("scope_not_for_role")
            if establishment is None:
                raise AccountError("siret_required")
            return cls(role_value, **_establishment(establishment))
        if establishment is not None:
            raise AccountError("scope_not_for_role")
        if role_value == Role.region and region is None:
            raise AccountError("region_required")
        if role_value == Role.admin and region is not None:
            raise AccountError("scope_not_for_role")
        if role_value != Role.region and funder_codes:
            raise AccountError("scope_not_for_role")
        return cls(role_value, region_code=region, funder_codes=funder_codes)

    def as_columns(self) -> dict[str, Any]:
        return {"role": self.role, "region_code": self.region_code,
                "funder_codes": list(self.funder_codes), "siren": self.siren,
                "siret": self.siret}


def _establishment(value: str) -> dict[str, str]:
    from stdnum.fr import siren, siret

    if len(value) == 9 and siren.is_valid(value):
        return {"siren": value}
    if len(value) == 14 and siret.is_valid(value):
        return {"siret": value}
    raise AccountError("invalid_siret")


def check_password(password: str, *, email: str | None) -> None:
    for problem in passwords.problems(password, email=email):
        raise AccountError(f"password_{problem}", min_length=passwords.MIN_LENGTH)


# --- Creating and changing accounts -------------------------------------------------

def find(email: str) -> Account | None:
    return db.session.scalar(sa.select(Account).where(Account.email == email.strip().lower()))


def create(email: str, scope: AccountScope, *, name: str | None = None,
           password: str | None = None, created_by: Account | None = None,
           actor_role: str | None = None, reason: str | None = None) -> Account:
    """A new account. With ``password`` it is active at once; without, it is invited
    and an activation email is queued."""
    email = normalise_email(email)
    if find(email) is not None:
        raise AccountError("email_taken")
    if password is not None:
        check_password(password, email=email)
    now = clock.now()
    account = Account(email=email, name=(name or "").strip() or None,
                      status=AccountStatus.active if password else AccountStatus.invited,
                      password_hash=passwords.hash_password(password) if password else None,
                      password_changed_dt=now if password else None,
                      created_by_id=created_by.id if created_by else None, created_dt=now,
                      **scope.as_columns())
    db.session.add(account)
    db.session.flush()
    changes: dict[str, Any] = {"role": str(scope.role), "scope": account.scope_label,
                               "status": str(account.status)}
    if reason:
        changes["reason"] = reason
    record("account.created", object_type="account", object_id=account.id, changes=changes,
           actor=created_by, actor_role=actor_role)
    if password is None:
        queue_mail(account, AccountMail.activation)
    return account


def update(account: Account, scope: AccountScope, *, name: str | None, by: Account) -> dict:
    """Change the role, scope or name; returns what changed (also in the journal)."""
    if account.id == by.id and scope.role != account.role:
        raise AccountError("own_role")
    before = {"role": str(account.role), "scope": account.scope_label, "name": account.name}
    for column, value in scope.as_columns().items():
        setattr(account, column, value)
    account.name = (name or "").strip() or None
    after = {"role": str(account.role), "scope": account.scope_label, "name": account.name}
    changes: dict[str, list[Any]] = {key: [before[key], after[key]] for key in before
                                     if before[key] != after[key]}
    if account.can_see_personal_data and account.role not in PERSONAL_DATA_ROLES:
        # The new role may not read personal data: the grant goes with the old role.
        account.can_see_personal_data = False
        changes["personal_data"] = [True, False]
    if "name" in changes:
        changes["name"] = ["…", "…"]  # a person's name: changed, not written down
    if changes:
        db.session.flush()
        record("account.role_changed" if "role" in changes else "account.scope_changed",
               object_type="account", object_id=account.id, changes=changes, actor=by)
        if "role" in changes or "scope" in changes:
            # What the open sessions were allowed to see has changed.
            sessions.end_all(account.id)
    return changes


def set_personal_data(account: Account, allowed: bool, *, by: Account) -> bool:
    """Let ``account`` read trainees' names and emails in the lists, or stop it; False
    when nothing changes. Never one's own: a second admin decides (and the journal
    says who)."""
    if account.id == by.id and allowed:
        raise AccountError("own_personal_data")
    if allowed and account.role not in PERSONAL_DATA_ROLES:
        raise AccountError("personal_data_not_for_role")
    if account.can_see_personal_data == allowed:
        return False
    account.can_see_personal_data = allowed
    record("account.personal_data_granted" if allowed else "account.personal_data_removed",
           object_type="account", object_id=account.id,
           changes={"personal_data": [not allowed, allowed]}, actor=by)
    return True


def disable(account: Account, *, by: Account | None, actor_role: str | None = None) -> bool:
    """Refuse sign-in and end every session now. False if it was already disabled."""
    if by is not None and account.id == by.id:
        raise AccountError("own_account")
    if account.status == AccountStatus.disabled:
        return False
    previous = account.status
    account.status = AccountStatus.disabled
    account.disabled_dt = clock.now()
    ended = sessions.end_all(account.id)
    _cancel_mail(account.id)
    # Its emailed links die with it: enabling the account again must not revive them.
    db.session.execute(sa.update(AccountToken)
                       .where(AccountToken.account_id == account.id,
                              AccountToken.used_dt.is_(None))
                       .values(used_dt=account.disabled_dt))
    record("account.disabled", object_type="account", object_id=account.id,
           changes={"status": [str(previous), "disabled"], "sessions_ended": ended},
           actor=by, actor_role=actor_role)
    return True


def enable(account: Account, *, by: Account) -> bool:
    if account.status != AccountStatus.disabled:
        return False
    account.status = AccountStatus.active if account.password_hash else AccountStatus.invited
    account.disabled_dt = None
    account.failed_logins = 0
    account.locked_until_dt = None
    record("account.enabled", object_type="account", object_id=account.id,
           changes={"status": ["disabled", str(account.status)]}, actor=by)
    if account.status == AccountStatus.invited:
        queue_mail(account, AccountMail.activation)
    return True


def resend_activation(account: Account, *, by: Account) -> None:
    if account.status != AccountStatus.invited:
        raise AccountError("not_invited")
    queue_mail(account, AccountMail.activation)
    record("account.activation_resent", object_type="account", object_id=account.id, actor=by)


def end_sessions(account: Account, *, by: Account) -> int:
    ended = sessions.end_all(account.id)
    record("account.sessions_ended", object_type="account", object_id=account.id,
           changes={"sessions_ended": ended}, actor=by)
    return ended


# --- Passwords -----------------------------------------------------------------------

def set_password(account: Account, password: str, *, action: str) -> None:
    """A new password chosen by its owner (activation, reset, change): every session of
    the account ends, every emailed link stops working."""
    check_password(password, email=account.email)
    now = clock.now()
    account.password_hash = passwords.hash_password(password)
    account.password_changed_dt = now
    previous = account.status
    if account.status == AccountStatus.invited:
        account.status = AccountStatus.active
    account.failed_logins = 0
    account.locked_until_dt = None
    ended = sessions.end_all(account.id)
    db.session.execute(sa.update(AccountToken)
                       .where(AccountToken.account_id == account.id,
                              AccountToken.used_dt.is_(None))
                       .values(used_dt=now))
    changes: dict[str, Any] = {"sessions_ended": ended}
    if previous != account.status:
        changes["status"] = [str(previous), str(account.status)]
    record(action, object_type="account", object_id=account.id, changes=changes, actor=account)


def change_password(user: sessions.SignedIn, current_password: str, new_password: str) -> None:
    account = user.account
    if not passwords.verify(account.password_hash, current_password):
        raise AccountError("wrong_password")
    set_password(account, new_password, action="account.password_changed")
    # This browser stays signed in, under a new session id; the others are gone.
    sessions.start(account)


def request_reset(email: str) -> None:
    """"Forgotten password": an email if the account can use one. Says nothing either
    way: the page answers the same, whatever happened here."""
    try:
        account = find(normalise_email(email))
    except AccountError:
        return
    if account is None or account.status == AccountStatus.disabled:
        return
    kind = AccountMail.activation if account.status == AccountStatus.invited \
        else AccountMail.reset
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(AccountMessage).where(
        AccountMessage.account_id == account.id, AccountMessage.kind == kind,
        AccountMessage.created_dt > clock.now() - RESET_EMAIL_GAP))
    if recent:
        return
    queue_mail(account, kind)
    record("account.reset_requested", object_type="account", object_id=account.id,
           actor_role="anonymous")


def queue_mail(account: Account, kind: AccountMail, locale: str = "fr") -> AccountMessage:
    message = AccountMessage(account_id=account.id, kind=kind, locale=locale,
                             created_dt=clock.now(), next_attempt_dt=clock.now())
    db.session.add(message)
    return message


def _cancel_mail(account_id: int) -> None:
    from avis.accounts.models import AccountMessageStatus

    db.session.execute(sa.update(AccountMessage)
                       .where(AccountMessage.account_id == account_id,
                              AccountMessage.status == AccountMessageStatus.queued)
                       .values(status=AccountMessageStatus.cancelled))


# --- Emailed links -------------------------------------------------------------------

def mint_token(account_id: int, purpose: TokenPurpose) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(AccountToken(digest=sessions.digest(token), account_id=account_id,
                                purpose=purpose, created_dt=now,
                                expires_dt=now + TOKEN_LIFETIMES[purpose]))
    return token


def valid_token(token_digest: bytes) -> tuple[AccountToken, Account] | None:
    """The unused, unexpired token with this hash and its (not disabled) account."""
    row = db.session.execute(
        sa.select(AccountToken, Account).join(Account, Account.id == AccountToken.account_id)
        .where(AccountToken.digest == token_digest, AccountToken.used_dt.is_(None),
               AccountToken.expires_dt > clock.now(),
               Account.status != AccountStatus.disabled)).first()
    return (row[0], row[1]) if row else None


def use_token(token_digest: bytes, password: str) -> Account:
    """Choose a password with an emailed link; the link then opens nothing. Two
    submissions at once: one wins, the other finds the link used."""
    found = valid_token(token_digest)
    if found is None:
        raise AccountError("invalid_link")
    token, account = found
    check_password(password, email=account.email)
    claimed = db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_dt.is_(None))
        .values(used_dt=clock.now()).returning(AccountToken.id)).first()
    if claimed is None:
        raise AccountError("invalid_link")
    action = "account.activated" if token.purpose == TokenPurpose.activation \
        else "account.password_reset"
    set_password(account, password, action=action)
    return account


# --- Sign-in -------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInAttempt:
    account: Account | None
    #: ok, or why not (for the journal only: the visitor always reads the same message)
    outcome: str


def attempt_sign_in(email: str, password: str) -> SignInAttempt:
    """Check an email and password. The same work is done for an unknown address, a
    locked or disabled account and a wrong password, so that neither the answer nor its
    time tells them apart. Failures are counted and journaled (the caller commits)."""
    try:
        account = find(normalise_email(email))
    except AccountError:
        account = None
    now = clock.now()
    matches = passwords.verify(account.password_hash if account else None, password)
    if account is None:
        record("account.sign_in_failed", changes={"reason": "unknown_email"})
        return SignInAttempt(None, "unknown_email")
    if account.locked_until_dt is not None and account.locked_until_dt > now:
        outcome = "locked"  # even with the right password: it would tell it is right
    elif account.status != AccountStatus.active:
        outcome = str(account.status)
    elif not matches:
        outcome = "wrong_password"
    else:
        return SignInAttempt(account, "ok")
    register_failure(account, outcome)
    return SignInAttempt(account, outcome)


def register_failure(account: Account, reason: str) -> None:
    """Count a failed attempt, locking the account at the limit; after a lock has run
    out, counting starts again. One UPDATE with the arithmetic in SQL: concurrent
    attempts on PostgreSQL queue on the row and each counts, where reading then writing
    the count would lose some. Attempts on a locked account are journaled, not counted
    (they would keep its owner out for ever)."""
    config = current_app.config
    now = clock.now()
    if account.locked_until_dt is not None and account.locked_until_dt > now:
        record("account.sign_in_failed", object_type="account", object_id=account.id,
               changes={"reason": "locked"}, actor=account)
        return
    limit = config["LOGIN_MAX_FAILURES"]
    lapsed = sa.and_(Account.locked_until_dt.is_not(None), Account.locked_until_dt <= now)
    count = sa.case((lapsed, 1), else_=Account.failed_logins + 1)
    failures, locked_until = db.session.execute(
        sa.update(Account).where(Account.id == account.id)
        .values(failed_logins=count,
                locked_until_dt=sa.case(
                    (count >= limit, now + dt.timedelta(minutes=config["LOGIN_LOCK_MINUTES"])),
                    (lapsed, None),
                    else_=Account.locked_until_dt))
        .returning(Account.failed_logins, Account.locked_until_dt)
        .execution_options(synchronize_session=False)).one()
    account.failed_logins, account.locked_until_dt = failures, locked_until
    changes: dict[str, Any] = {"reason": reason, "failures": failures}
    if failures == limit:
        changes["locked_minutes"] = config["LOGIN_LOCK_MINUTES"]
    record("account.sign_in_failed", object_type="account", object_id=account.id,
           changes=changes, actor=account)


def complete_sign_in(account: Account, *, method: str) -> None:
    """The password (and second factor) were right: open a session."""
    now = clock.now()
    account.failed_logins = 0
    account.locked_until_dt = None
    account.last_login_dt = now
    account.last_seen_dt = now
    sessions.start(account)
    record("account.sign_in", object_type="account", object_id=account.id,
           changes={"method": method}, actor=account)


def rehash_if_needed(account: Account, password: str) -> None:
    """Parameters changed since the hash was made: replace it, now that we have the
    password in hand."""
    if account.password_hash and passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)


def totp_required(account: Account) -> bool:
    return str(account.role) in current_app.config["REQUIRE_TOTP_ROLES"]


# --- Second factor -------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name="avis")


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is, within one step of now (phones' clocks
    drift); None if none."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def verify_second_factor(account: Account, code: str) -> str | None:
    """Check a TOTP code (each accepted once: a step is never taken twice) or a recovery
    code (each works once). Returns the method used, or None."""
    code = (code or "").strip()
    if account.totp_secret and account.has_totp:
        step = _matching_step(account.totp_secret, code)
        if step is not None:
            taken = db.session.execute(
                sa.update(Account).where(Account.id == account.id, sa.or_(
                    Account.totp_last_step.is_(None), Account.totp_last_step < step))
                .values(totp_last_step=step).returning(Account.id)
                .execution_options(synchronize_session=False)).first()
            if taken is not None:
                account.totp_last_step = step
                return "totp"
            return None
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id,
               RecoveryCode.digest == _recovery_digest(code), RecoveryCode.used_dt.is_(None))
        .values(used_dt=clock.now()).returning(RecoveryCode.id)).first()
    if used is not None:
        record("account.recovery_code_used", object_type="account", object_id=account.id,
               changes={"left": _recovery_codes_left(account.id)}, actor=account)
        return "recovery_code"
    return None


def enable_totp(account: Account, secret: str, code: str) -> list[str] | None:
    """Turn the second factor on once the owner typed a code of ``secret``; returns the
    new recovery codes (shown once), or None when the code is wrong."""
    step = _matching_step(secret, code)
    if step is None:
        return None
    account.totp_secret = secret
    account.totp_enabled_dt = clock.now()
    account.totp_last_step = step
    codes = _new_recovery_codes(account.id)
    record("account.totp_enabled", object_type="account", object_id=account.id, actor=account)
    return codes


def disable_totp(account: Account, *, by: Account, end_sessions: bool) -> None:
    """Turn the second factor off: by its owner from their account page (when the role
    does not require it), or by an admin for someone who lost their phone, which ends
    every session of the account (the admin's own included: a stolen session must not
    be enough to drop the factor quietly)."""
    account.totp_secret = None
    account.totp_enabled_dt = None
    account.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    if end_sessions:
        sessions.end_all(account.id)
    record("account.totp_disabled", object_type="account", object_id=account.id, actor=by)


def regenerate_recovery_codes(account: Account) -> list[str]:
    codes = _new_recovery_codes(account.id)
    record("account.recovery_codes_renewed", object_type="account", object_id=account.id,
           actor=account)
    return codes


def _new_recovery_codes(account_id: int) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 80 bits, 16 letters
        code = "-".join(raw[i:i + 4] for i in range(0, 16, 4)).lower()
        codes.append(code)
        db.session.add(RecoveryCode(account_id=account_id, digest=_recovery_digest(code)))
    db.session.flush()
    return codes


def _recovery_digest(code: str) -> bytes:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(cleaned.encode("ascii", "replace")).digest()


def _recovery_codes_left(account_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used_dt.is_(None))) or 0


def recovery_codes_left(account: Account) -> int:
    return _recovery_codes_left(account.id)
