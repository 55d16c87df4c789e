"""Signing in and out, second factor, emailed links (activation, forgotten password).

Pages here are reached without a session. They all answer ``Cache-Control: no-store``.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from avis import clock
from avis.accounts import operations, sessions, totp
from avis.accounts.access import safe_next
from avis.accounts.forms import (
    ERRORS,
    ChoosePasswordForm,
    CodeForm,
    ConfirmForm,
    ForgotForm,
    LoginForm,
)
from avis.accounts.models import Account, AccountStatus
from avis.db import db
from avis.security import limiter

bp = Blueprint("accounts", __name__, template_folder="templates")

#: Between the password and the second factor: a few minutes to type the code.
PENDING_LIFETIME = dt.timedelta(minutes=5)
_PENDING = "pending_sign_in"
_TOKEN = "account_link"


def _login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


#: Per client address, over every step that checks a secret (password, code, email).
_sign_in_limit = limiter.shared_limit(_login_rate_limit, scope="sign-in",
                                      methods=["POST"])
#: Emailed links are looked up by GET: their own budget, every method counted.
_link_limit = limiter.shared_limit(_login_rate_limit, scope="account-link")


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@_sign_in_limit
def login() -> ResponseReturnValue:
    """Email and password. One message for every failure (unknown address, wrong
    password, locked or disabled account), given after the same work."""
    if sessions.current() is not None:
        return redirect(safe_next(request.args.get("next")) or url_for("admin.home"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        attempt = operations.attempt_sign_in(form.email.data, form.password.data)
        if attempt.outcome != "ok" or attempt.account is None:
            db.session.commit()
            failed = True
        else:
            return _after_password(attempt.account, form.password.data)
    status = 422 if (failed or form.errors) else 200
    return render_template("accounts/login.html", form=form, failed=failed), status


def _after_password(account: Account, password: str) -> ResponseReturnValue:
    operations.rehash_if_needed(account, password)
    if account.has_totp or operations.totp_required(account):
        # The password was right; the session opens after the second factor.
        totp.forget_setup()
        session[_PENDING] = {"account": account.id, "at": clock.now().timestamp(),
                             "next": safe_next(request.args.get("next"))}
        db.session.commit()
        if account.has_totp:
            return redirect(url_for("accounts.second_factor"), code=303)
        return redirect(url_for("accounts.second_factor_setup"), code=303)
    return _signed_in(account, "password", safe_next(request.args.get("next")))


def _signed_in(account: Account, method: str, target: str | None) -> ResponseReturnValue:
    operations.complete_sign_in(account, method=method)
    db.session.commit()
    return redirect(target or url_for("admin.home"), code=303)


def _pending_account() -> Account | None:
    """The account whose password was just checked, if that was recent."""
    pending = session.get(_PENDING)
    if not isinstance(pending, dict) or clock.now().timestamp() - float(pending.get("at", 0)) \
            > PENDING_LIFETIME.total_seconds():
        return None
    account = db.session.get(Account, pending.get("account"))
    if account is None or account.status != AccountStatus.active:
        return None
    if account.locked_until_dt is not None and account.locked_until_dt > clock.now():
        return None
    return account


@bp.route("/login/code", methods=["GET", "POST"])
@_sign_in_limit
def second_factor() -> ResponseReturnValue:
    """The second step: a code of the authenticator app, or a recovery code."""
    account = _pending_account()
    if account is None or not account.has_totp:
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    failed = False
    if form.validate_on_submit():
        method = operations.verify_second_factor(account, form.code.data)
        if method is None:
            operations.register_failure(account, "wrong_code")
            db.session.commit()
            failed = True
        else:
            target = session.pop(_PENDING, {}).get("next")
            return _signed_in(account, method, target)
    status = 422 if (failed or form.errors) else 200
    return render_template("accounts/code.html", form=form, failed=failed), status


@bp.route("/login/double-authentification", methods=["GET", "POST"])
@_sign_in_limit
def second_factor_setup() -> ResponseReturnValue:
    """A role that requires a second factor, signing in without one: set it up now."""
    account = _pending_account()
    if account is None or account.has_totp:
        return redirect(url_for("accounts.login"))
    step = totp.setup_step(account)
    if step.failed:
        # A wrong code counts as a failed attempt: the password alone must not allow
        # guessing codes.
        operations.register_failure(account, "wrong_code")
        db.session.commit()
    elif step.codes is not None:
        target = session.pop(_PENDING, {}).get("next")
        operations.complete_sign_in(account, method="totp_setup")
        db.session.commit()
        return render_template("accounts/recovery_codes.html", codes=step.codes,
                               next_url=target or url_for("admin.home"))
    return totp.setup_page(account, step, required=True)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out (POST only, with its CSRF token: a link or an image cannot sign anyone
    out)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.home"))
    user = sessions.current()
    if user is not None:
        from avis.audit.operations import record

        record("account.sign_out", object_type="account", object_id=user.account.id,
               actor=user.account)
    sessions.end()
    db.session.commit()
    return render_template("accounts/signed_out.html")


@bp.route("/login/mot-de-passe-oublie", methods=["GET", "POST"])
@_sign_in_limit
def forgot() -> ResponseReturnValue:
    """Ask for a link to choose a new password. The answer is the same whether an
    account exists for the address or not."""
    form = ForgotForm()
    if form.validate_on_submit():
        operations.request_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/forgot_sent.html")
    return render_template("accounts/forgot.html", form=form), 422 if form.errors else 200


@bp.get("/login/lien/<token>")
@_link_limit
def link(token: str) -> ResponseReturnValue:
    """An emailed link: kept in the session and replaced by a URL without the token (a
    link scanner's GET uses nothing)."""
    token_digest = sessions.digest(token)
    if operations.valid_token(token_digest) is None:
        return render_template("accounts/link_invalid.html"), 410
    session[_TOKEN] = token_digest.hex()
    return redirect(url_for("accounts.choose_password"), code=303)


@bp.route("/login/mot-de-passe", methods=["GET", "POST"])
def choose_password() -> ResponseReturnValue:
    """Choose a password with the link's token (activation or reset)."""
    raw = session.get(_TOKEN)
    found = operations.valid_token(bytes.fromhex(raw)) if isinstance(raw, str) else None
    if found is None:
        return render_template("accounts/link_invalid.html"), 410
    token, account = found
    form = ChoosePasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            operations.use_token(token.digest, form.password.data)
        except operations.AccountError as exc:
            db.session.rollback()
            error = str(ERRORS[exc.code]) % exc.details
        else:
            db.session.commit()
            session.pop(_TOKEN, None)
            return render_template("accounts/password_saved.html", email=account.email)
    status = 422 if (error or form.errors) else 200
    return render_template("accounts/choose_password.html", form=form, error=error,
                           purpose=str(token.purpose), email=account.email), status
