"""Colleagues invited to the same SIREN or SIRET (``avis.bodies.colleagues``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from avis.accounts.access import allow
from avis.accounts.forms import ERRORS, STATUS_LABELS
from avis.accounts.models import Account, AccountStatus, Role
from avis.accounts.operations import AccountError
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.bodies import colleagues
from avis.db import db

bp = admin_blueprint("colleagues", __name__, template_folder="templates")

#: What refusals mean here; the other codes read as on the administrators' pages.
MESSAGES: dict[str, LazyString] = {
    "email_taken": _l("An account already uses this email address, and an address can "
                      "have only one account. If it is your colleague's, they can already "
                      "sign in (or choose a new password with “Forgotten password”)."),
    "establishment_not_yours": _l("Choose one of your establishments from the list."),
    "own_account": _l("You cannot disable your own account."),
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class InviteForm(FlaskForm):
    email = EmailField(_l("Your colleague’s email address"), filters=[_strip],
                       validators=[InputRequired(_l("Enter the email address.")),
                                   Length(max=254)])
    name = StringField(_l("Name (optional)"), filters=[_strip],
                       validators=[Optional(), Length(max=200)])
    establishment = SelectField(_l("Access to"), validators=[Optional()], description=_l(
        "All your establishments, as you, or one of them only."))
    submit = SubmitField(_l("Invite"))


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


def _form(me: Account) -> InviteForm:
    form = InviteForm()
    if me.siren:
        form.establishment.choices = [
            SelectChoice("", _("All establishments (SIREN %(siren)s)", siren=me.siren)),
            *(SelectChoice(e.siret, f"{e.name} — SIRET {e.siret}")
              for e in colleagues.establishments(me))]
    else:
        del form.establishment
    return form


def _message(error: AccountError) -> str:
    return str(MESSAGES.get(error.code) or ERRORS.get(error.code) or error.code)


@bp.route("/mon-organisme/collegues", methods=["GET", "POST"])
@allow(Role.organisation)
def index() -> ResponseReturnValue:
    """The accounts of my scope; invite a colleague (POST, CSRF, journaled)."""
    me = _me()
    form = _form(me)
    error = None
    if form.validate_on_submit():
        establishment = form.establishment.data if "establishment" in form else None
        try:
            invited = colleagues.invite(me, form.email.data, name=form.name.data,
                                        establishment=establishment)
        except AccountError as exc:
            db.session.rollback()
            error = _message(exc)
        else:
            email = invited.email
            db.session.commit()
            flash(_("%(email)s is invited: an email asks them to choose a password (the link "
                    "works for 7 days).", email=email), "text")
            return redirect(url_for(".index"), 303)
    return render_template("bodies/colleagues.html", form=form, error=error, me=me,
                           accounts=colleagues.colleagues(me), status_labels=STATUS_LABELS,
                           statuses=AccountStatus), 422 if (error or form.errors) else 200


@bp.post("/mon-organisme/collegues/<int:account_id>/<any(desactiver, reactiver):action>")
@allow(Role.organisation)
def change(account_id: int, action: str) -> ResponseReturnValue:
    """Disable a colleague who left, or enable them again (POST, CSRF, journaled)."""
    me = _me()
    other = colleagues.colleague(me, account_id)
    if other is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        done = (colleagues.disable if action == "desactiver" else colleagues.enable)(me, other)
    except AccountError as exc:
        db.session.rollback()
        flash(_message(exc), "text")
        return redirect(url_for(".index"), 303)
    email = other.email
    db.session.commit()
    if done:
        flash(_("The account of %(email)s is disabled: it can no longer sign in.", email=email)
              if action == "desactiver" else
              _("The account of %(email)s is enabled again.", email=email), "text")
    return redirect(url_for(".index"), 303)
