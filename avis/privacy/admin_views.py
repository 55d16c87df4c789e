"""Erasure and access requests handled by admins in the back office.

Every request carries the address in a POST body: an address never appears in a URL,
hence never in a server's access log nor in a browser's history."""

from __future__ import annotations

import json

from flask import Response, flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField
from wtforms.validators import DataRequired, Email, Length

from avis.accounts.access import allow
from avis.accounts.models import Role
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.db import db
from avis.privacy import erasure
from avis.privacy.export import export_email, export_text

bp = admin_blueprint("privacy_admin", __name__, template_folder="templates")


class AddressForm(FlaskForm):
    email = EmailField(_l("The person's email address"), filters=[
        lambda v: v.strip().lower() if isinstance(v, str) else v], validators=[
        DataRequired(_l("Type the address.")), Length(max=254),
        Email(_l("This is not an email address."), check_deliverability=False)])


class EraseForm(AddressForm):
    confirmed = BooleanField(_l("I confirm: erase this person's identity for good"))


def _page(form: AddressForm, status: int = 200, **values: object) -> ResponseReturnValue:
    return render_template("privacy/admin_personal_data.html", form=form, **values), status


@bp.get("/donnees-personnelles")
@allow(Role.admin)
def index() -> ResponseReturnValue:
    """The form to look up an address."""
    return _page(AddressForm())


@bp.post("/donnees-personnelles")
@allow(Role.admin)
def show() -> ResponseReturnValue:
    """What is held about the address (an access request: audited)."""
    form = AddressForm()
    if not form.validate():
        return _page(form, 422)
    data = export_email(form.email.data, actor=signed_in_account())
    db.session.commit()
    return _page(form, data=data, text=export_text(data),
                 erasure=erasure.erasure_of(form.email.data), erase_form=EraseForm(
                     formdata=None, email=form.email.data))


@bp.post("/donnees-personnelles/export.json")
@allow(Role.admin)
def download() -> ResponseReturnValue:
    """The export as a JSON file (audited)."""
    form = AddressForm()
    if not form.validate():
        return _page(form, 422)
    data = export_email(form.email.data, actor=signed_in_account())
    db.session.commit()
    return Response(json.dumps(data, ensure_ascii=False, indent=2),
                    mimetype="application/json", headers={
                        "Content-Disposition": 'attachment; filename="donnees-personnelles.json"',
                        "Cache-Control": "no-store"})


@bp.post("/donnees-personnelles/effacer")
@allow(Role.admin)
def erase() -> ResponseReturnValue:
    """Erase, after a confirmation step (the box ticked)."""
    form = EraseForm()
    if not form.validate():
        return _page(AddressForm(formdata=None, email=form.email.data), 422)
    if not form.confirmed.data:
        return _page(AddressForm(formdata=None, email=form.email.data), confirm=form)
    erased = erasure.erase_email(form.email.data, reason="request", actor=signed_in_account())
    db.session.commit()
    flash(gettext("The person's identity is erased; a later import of the address is "
                  "refused.") if erased else
          gettext("The address is recorded as erased; a later import of it is refused."),
          "text")
    return _page(AddressForm(formdata=None))


@bp.post("/donnees-personnelles/readmettre")
@allow(Role.admin)
def readmit() -> ResponseReturnValue:
    """Let an erased address be imported again."""
    form = AddressForm()
    if not form.validate():
        return _page(form, 422)
    if erasure.readmit(form.email.data, actor=signed_in_account()):
        db.session.commit()
        flash(gettext("The address is re-admitted: the next import may bring it back."),
              "text")
    else:
        flash(gettext("This address is not erased: nothing to re-admit."), "text")
    return _page(AddressForm(formdata=None))
