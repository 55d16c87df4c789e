"""``/admin/alertes``: the alerts of one's région (Region staff; admins: all), each with
its figures, acknowledged with a note; and the weekly email's opt-out."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from avis.accounts.access import allow
from avis.accounts.models import Account, Role
from avis.accounts.scope import get_or_404, scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.db import db
from avis.monitoring import alerts
from avis.monitoring.alerts_text import RULE_LABELS, STATUS_LABELS, body_names, describe
from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus
from avis.surveys.models.answers import Answer

bp = admin_blueprint("alerts", __name__, template_folder="templates")

STAFF = (Role.region, Role.admin)
PAGE_SIZE = 50
MAX_NOTE = 2000


class AlertFilterForm(FlaskForm):
    class Meta:
        csrf = False

    statut = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice("", _l("Open or acknowledged")),
        *(SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()),
        SelectChoice("tous", _l("All alerts"))])
    regle = SelectField(_l("Kind"), validators=[Optional()], choices=[
        SelectChoice("", _l("All kinds")),
        *(SelectChoice(rule.value, label) for rule, label in RULE_LABELS.items())])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("What is being done"), filters=[
        lambda v: v.strip() if isinstance(v, str) else v], validators=[
        DataRequired(_l("Write what is being done about it.")),
        Length(max=MAX_NOTE, message=_l("At most %(max)d characters."))],
        description=_l("An inspection planned, the body called… Your colleagues read it."))


class DigestForm(FlaskForm):
    wanted = BooleanField(_l("Receive the alerts by email every Monday"))


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"rule_labels": RULE_LABELS, "status_labels": STATUS_LABELS}


@bp.get("/alertes")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    """Open and acknowledged alerts first (newest first), 50 a page."""
    form = AlertFilterForm(request.args)
    if not form.validate():
        abort(400)
    statement = scoped(Alert)
    if form.statut.data in set(AlertStatus):
        statement = statement.where(Alert.status == form.statut.data)
    elif form.statut.data != "tous":
        statement = statement.where(Alert.status != AlertStatus.closed)
    if form.regle.data:
        statement = statement.where(Alert.rule == form.regle.data)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    page = form.page.data or 1
    found = list(db.session.scalars(
        statement.order_by(sa.case((Alert.status == AlertStatus.open, 0), else_=1),
                           Alert.opened_dt.desc(), Alert.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    names = body_names(found)
    me = _me()
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "monitoring/alerts.html", form=form, rows=[(a, describe(a, names)) for a in found],
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), args=args,
        digest_form=DigestForm(formdata=None, data={"wanted": alerts.wants_digest(me)})
        if me.role == Role.region else None)


@bp.get("/alertes/<int:alert_id>")
@allow(*STAFF)
def detail(alert_id: int) -> ResponseReturnValue:
    """One alert: what holds, since when, who acknowledged it and what they wrote; the
    comment itself for a serious alert (never who wrote it)."""
    alert = get_or_404(Alert, Alert.id == alert_id)
    return _detail(alert, AcknowledgeForm(formdata=None))


def _detail(alert: Alert, form: AcknowledgeForm, status: int = 200) -> ResponseReturnValue:
    names = body_names([alert])
    acknowledged_by = (db.session.scalar(sa.select(Account.email).where(
        Account.id == alert.acknowledged_by_id)) if alert.acknowledged_by_id else None)
    comment = (db.session.execute(sa.select(Answer.comment_title, Answer.comment_text)
                                  .where(Answer.id == alert.answer_id)).first()
               if alert.answer_id else None)
    return render_template(
        "monitoring/alert.html", alert=alert, text=describe(alert, names),
        body=names.get(alert.training_body_id or 0), acknowledged_by=acknowledged_by,
        comment=comment, form=form), status


@bp.post("/alertes/<int:alert_id>/prendre-en-compte")
@allow(*STAFF)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """Acknowledge with a note (POST, CSRF, audited); the first of two people wins."""
    alert = get_or_404(Alert, Alert.id == alert_id)
    form = AcknowledgeForm()
    if not form.validate():
        return _detail(alert, form, 422)
    try:
        alerts.acknowledge(alert_id, form.note.data, by=_me())
    except alerts.AlreadyDone:
        flash(gettext("This alert is no longer open: someone acknowledged it, or it "
                      "cleared."), "text")
    else:
        flash(gettext("Alert acknowledged."), "text")
    return redirect(url_for("alerts.detail", alert_id=alert_id), 303)


@bp.post("/alertes/recapitulatif")
@allow(Role.region)
def digest() -> ResponseReturnValue:
    """Receive the weekly email or not (POST, CSRF, audited)."""
    form = DigestForm()
    if not form.validate():
        abort(400)
    alerts.set_digest(_me(), bool(form.wanted.data))
    flash(gettext("You will receive the alerts by email every Monday.") if form.wanted.data
          else gettext("You will no longer receive the alerts by email."), "text")
    return redirect(url_for("alerts.index"), 303)


__all__ = ["AlertRule", "bp"]
