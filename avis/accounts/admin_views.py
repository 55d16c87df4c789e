"""Account pages of the back office: one's own account, and (admins) everyone's."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from avis.accounts import operations, sessions, totp
from avis.accounts.access import EVERYONE, allow
from avis.accounts.forms import (
    ERRORS,
    ROLE_LABELS,
    STATUS_LABELS,
    AccountFilterForm,
    AccountForm,
    ChangePasswordForm,
    ConfirmForm,
    PasswordConfirmForm,
)
from avis.accounts.models import Account, Role
from avis.accounts.scope import get_or_404, scoped
from avis.admin import admin_blueprint
from avis.catalog.geo import REGION_NAMES
from avis.db import db

bp = admin_blueprint("accounts_admin", __name__, template_folder="templates")

PAGE_SIZE = 50


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"role_labels": ROLE_LABELS, "status_labels": STATUS_LABELS,
            "region_names": REGION_NAMES}


def _me() -> sessions.SignedIn:
    user = sessions.current()
    assert user is not None  # require_access ran
    return user


def _error(exc: operations.AccountError) -> str:
    return str(ERRORS[exc.code]) % exc.details


# --- One's own account ---------------------------------------------------------------

@bp.get("/compte")
@allow(*EVERYONE)
def my_account() -> ResponseReturnValue:
    """Password, second factor and recovery codes."""
    return _my_account_page()


def _my_account_page(password_form: ChangePasswordForm | None = None, *,
                     error: str | None = None, status: int = 200) -> ResponseReturnValue:
    account = _me().account
    return render_template(
        "accounts/my_account.html", account=account,
        password_form=password_form or ChangePasswordForm(formdata=None),
        confirm_form=PasswordConfirmForm(formdata=None), error=error,
        totp_required=operations.totp_required(account),
        codes_left=operations.recovery_codes_left(account) if account.has_totp else 0,
    ), status


@bp.post("/compte/mot-de-passe")
@allow(*EVERYONE)
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _my_account_page(form, status=422)
    try:
        operations.change_password(_me(), form.current.data, form.password.data)
    except operations.AccountError as exc:
        db.session.rollback()
        return _my_account_page(form, error=_error(exc), status=422)
    db.session.commit()
    flash("password_changed")
    return redirect(url_for("accounts_admin.my_account"), code=303)


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@allow(*EVERYONE)
def totp_setup() -> ResponseReturnValue:
    """Turn the second factor on: scan, type a code, keep the recovery codes."""
    account = _me().account
    if account.has_totp:
        return redirect(url_for("accounts_admin.my_account"))
    step = totp.setup_step(account)
    if step.codes is not None:
        db.session.commit()
        return render_template("accounts/recovery_codes.html", codes=step.codes,
                               next_url=url_for("accounts_admin.my_account"))
    return totp.setup_page(account, step, required=False)


@bp.post("/compte/double-authentification/desactiver")
@allow(*EVERYONE)
def totp_disable() -> ResponseReturnValue:
    user = _me()
    if operations.totp_required(user.account):
        abort(403)
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return _my_account_page(status=422)
    from avis.accounts.passwords import verify

    if not verify(user.account.password_hash, form.current.data):
        return _my_account_page(error=str(ERRORS["wrong_password"]), status=422)
    operations.disable_totp(user.account, by=user.account, end_sessions=False)
    db.session.commit()
    flash("totp_disabled")
    return redirect(url_for("accounts_admin.my_account"), code=303)


@bp.post("/compte/codes-de-secours")
@allow(*EVERYONE)
def recovery_codes() -> ResponseReturnValue:
    """New recovery codes (the old ones stop working), after the password."""
    user = _me()
    form = PasswordConfirmForm()
    if not user.account.has_totp:
        return redirect(url_for("accounts_admin.my_account"))
    if not form.validate_on_submit():
        return _my_account_page(status=422)
    from avis.accounts.passwords import verify

    if not verify(user.account.password_hash, form.current.data):
        return _my_account_page(error=str(ERRORS["wrong_password"]), status=422)
    codes = operations.regenerate_recovery_codes(user.account)
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes,
                           next_url=url_for("accounts_admin.my_account"))


# --- Everyone's accounts (admins) ---------------------------------------------------

@bp.get("/comptes")
@allow(Role.admin)
def accounts() -> ResponseReturnValue:
    """Every account, with its role, scope, status and last sign-in."""
    form = AccountFilterForm(request.args)
    if not form.validate():
        abort(400)
    statement = scoped(Account)
    if form.q.data:
        pattern = "%" + form.q.data.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        statement = statement.where(sa.or_(Account.email.like(pattern, escape="\\"),
                                           sa.func.lower(Account.name).like(pattern,
                                                                            escape="\\")))
    if form.role.data:
        statement = statement.where(Account.role == form.role.data)
    if form.status.data:
        statement = statement.where(Account.status == form.status.data)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = max(1, request.args.get("page", 1, type=int))
    rows = db.session.scalars(statement.order_by(Account.email)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    filter_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("accounts/accounts.html", form=form, rows=rows, total=total or 0,
                           page=page, pages=max(1, -(-(total or 0) // PAGE_SIZE)),
                           filter_args=filter_args)


def _scope_from(form: AccountForm) -> operations.AccountScope:
    return operations.AccountScope.build(
        form.role.data, establishment=form.establishment.data, region=form.region.data,
        funders=form.funders.data or ())


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
@allow(Role.admin)
def invite() -> ResponseReturnValue:
    """Open an account for someone: they get an email to choose their password."""
    form = AccountForm()
    error = None
    if form.validate_on_submit():
        try:
            account = operations.create(form.email.data, _scope_from(form),
                                        name=form.name.data, created_by=_me().account)
        except operations.AccountError as exc:
            db.session.rollback()
            error = _error(exc)
        else:
            db.session.commit()
            flash("invited")
            return redirect(url_for("accounts_admin.account", account_id=account.id), code=303)
    return render_template("accounts/invite.html", form=form, error=error), \
        422 if (error or form.errors) else 200


@bp.route("/comptes/<int:account_id>", methods=["GET", "POST"])
@allow(Role.admin)
def account(account_id: int) -> ResponseReturnValue:
    """One account: change its role and scope; disable, enable, resend, reset."""
    found = get_or_404(Account, Account.id == account_id)
    form = AccountForm(data={
        "email": found.email, "name": found.name, "role": str(found.role),
        "region": found.region_code or "", "funders": list(found.funder_codes or ()),
        "establishment": found.siren or found.siret or ""})
    del form.email  # an address is a person: a new one is a new account
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            operations.update(found, _scope_from(form), name=form.name.data, by=_me().account)
        except operations.AccountError as exc:
            db.session.rollback()
            error = _error(exc)
        else:
            db.session.commit()
            flash("account_saved")
            return redirect(url_for("accounts_admin.account", account_id=found.id), code=303)
    return render_template("accounts/account.html", account=found, form=form, error=error,
                           confirm_form=ConfirmForm(formdata=None),
                           personal_data_roles=operations.PERSONAL_DATA_ROLES,
                           sessions_count=sessions.count_for(found.id)), \
        422 if (error or form.errors) else 200


_ACTIONS = {"desactiver", "reactiver", "renvoyer", "deconnecter", "double-authentification",
            "donnees-personnelles", "sans-donnees-personnelles"}


@bp.post("/comptes/<int:account_id>/<action>")
@allow(Role.admin)
def account_action(account_id: int, action: str) -> ResponseReturnValue:
    """Disable, enable, resend the activation email, end the sessions, remove the second
    factor (lost phone) of an account, or grant or remove the reading of trainees' names
    and emails in the lists."""
    if action not in _ACTIONS:
        abort(404)
    found = get_or_404(Account, Account.id == account_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    me = _me().account
    try:
        if action == "desactiver":
            operations.disable(found, by=me)
        elif action == "reactiver":
            operations.enable(found, by=me)
        elif action == "renvoyer":
            operations.resend_activation(found, by=me)
        elif action == "deconnecter":
            operations.end_sessions(found, by=me)
        elif action in ("donnees-personnelles", "sans-donnees-personnelles"):
            operations.set_personal_data(found, action == "donnees-personnelles", by=me)
        elif found.has_totp:
            operations.disable_totp(found, by=me, end_sessions=True)
    except operations.AccountError as exc:
        db.session.rollback()
        flash(f"error:{exc.code}")
    else:
        db.session.commit()
        flash(f"done:{action}")
    return redirect(url_for("accounts_admin.account", account_id=found.id), code=303)
