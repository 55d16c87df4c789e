"""``/admin/journal``: the audit journal for admins, filtered, paged, and as CSV."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional

from avis import clock
from avis.accounts.access import allow
from avis.accounts.models import Account, Role
from avis.accounts.scope import scoped
from avis.admin import admin_blueprint
from avis.audit.models import AuditEvent
from avis.audit.operations import record
from avis.db import db
from avis.spreadsheets import csv_text

bp = admin_blueprint("audit", __name__, template_folder="templates")

PAGE_SIZE = 50
#: A CSV export holds at most this many events (narrow the filters for more).
MAX_EXPORT = 100_000
PARIS = ZoneInfo("Europe/Paris")

#: The actions a filter offers, with what they mean.
ACTIONS = {
    "alert.acknowledged": _l("Alert acknowledged"),
    "alert.digest_on": _l("Weekly alerts email on"),
    "alert.digest_off": _l("Weekly alerts email off"),
    "account.sign_in": _l("Sign-in"),
    "account.sign_in_failed": _l("Failed sign-in"),
    "account.sign_out": _l("Sign-out"),
    "account.created": _l("Account created"),
    "account.activated": _l("Account activated"),
    "account.role_changed": _l("Role changed"),
    "account.scope_changed": _l("Scope changed"),
    "account.disabled": _l("Account disabled"),
    "account.enabled": _l("Account enabled"),
    "account.password_changed": _l("Password changed"),
    "account.password_reset": _l("Password reset"),
    "account.reset_requested": _l("Password reset asked"),
    "account.activation_resent": _l("Activation email sent again"),
    "account.sessions_ended": _l("Sessions ended"),
    "account.totp_enabled": _l("Second factor turned on"),
    "account.totp_disabled": _l("Second factor turned off"),
    "account.recovery_code_used": _l("Recovery code used"),
    "account.recovery_codes_renewed": _l("Recovery codes renewed"),
    "account.personal_data_granted": _l("Reading of personal data granted"),
    "account.personal_data_removed": _l("Reading of personal data removed"),
    "list.viewed": _l("Names and emails of a list viewed"),
    "list.exported": _l("Names and emails of a list downloaded"),
    "training_body.contact_changed": _l("Body contact address changed"),
    "import.uploaded": _l("Trainee file uploaded"),
    "import.rejects_downloaded": _l("Rejected rows of an import downloaded"),
    "import.cancelled": _l("Import cancelled"),
    "import.given_up": _l("Import given up after repeated interruptions"),
    "comment.publish": _l("Comment published"),
    "comment.reject": _l("Comment rejected"),
    "comment.redact": _l("Comment redacted"),
    "comment.withdraw": _l("Comment withdrawn"),
    "comment.undo": _l("Moderation undone"),
    "comment.exclude": _l("Answer excluded from the scores"),
    "comment.include": _l("Answer counted again"),
    "reply.write": _l("Reply written by the body"),
    "reply.take_back": _l("Reply taken back by the body"),
    "reply.publish": _l("Reply published"),
    "reply.reject": _l("Reply rejected"),
    "reply.withdraw": _l("Reply withdrawn"),
    "reply.undo": _l("Reply moderation undone"),
    "report.create": _l("Review reported by the body"),
    "review.read": _l("Review marked read"),
    "review.unread": _l("Review marked unread"),
    "account.notifications_changed": _l("Email notifications changed"),
    "trainee.erased": _l("Trainee's personal data erased"),
    "trainee.exported": _l("Trainee's personal data exported"),
    "trainee.readmitted": _l("Erased address re-admitted"),
    "privacy.retention_applied": _l("Retention rules applied"),
    "journal.exported": _l("Journal exported"),
}


class JournalFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()])
    actor = SearchField(_l("By (email)"), validators=[Optional(), Length(max=254)],
                        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v])
    object_id = SearchField(_l("Object (account number, SIRET…)"),
                            validators=[Optional(), Length(max=64)],
                            filters=[lambda v: v.strip() if isinstance(v, str) else v])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To (included)"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _l("All")), *list(ACTIONS.items())]


def _filtered(form: JournalFilterForm) -> sa.Select:
    statement = (scoped(AuditEvent, AuditEvent, Account.email)
                 .outerjoin(Account, Account.id == AuditEvent.actor_id))
    if form.action.data:
        statement = statement.where(AuditEvent.action == form.action.data)
    if form.actor.data:
        statement = statement.where(Account.email == form.actor.data)
    if form.object_id.data:
        statement = statement.where(AuditEvent.object_id == form.object_id.data)
    if form.start.data:
        statement = statement.where(AuditEvent.occurred_dt >= _paris_midnight(form.start.data))
    if form.end.data:
        statement = statement.where(AuditEvent.occurred_dt < _paris_midnight(
            form.end.data + dt.timedelta(days=1)))
    return statement


def _paris_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.UTC)


@bp.get("/journal")
@allow(Role.admin)
def journal() -> ResponseReturnValue:
    """Who did what, newest first; filters by action, person, object and dates."""
    form = JournalFilterForm(request.args)
    if not form.validate():
        return render_template("audit/journal.html", form=form, rows=[], total=0, page=1,
                               pages=1, actions=ACTIONS, export_args={}), 400
    statement = _filtered(form)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    page = form.page.data or 1
    rows = db.session.execute(statement.order_by(AuditEvent.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    export_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("audit/journal.html", form=form, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), actions=ACTIONS,
                           export_args=export_args, paris=PARIS)


@bp.get("/journal.csv")
@allow(Role.admin)
def journal_csv() -> ResponseReturnValue:
    """The filtered journal as CSV (the export itself is journaled, with its size)."""
    form = JournalFilterForm(request.args)
    if not form.validate():
        abort(400)
    rows = db.session.execute(_filtered(form).order_by(AuditEvent.id.desc())
                              .limit(MAX_EXPORT)).all()
    filters = {key: value for key, value in request.args.items() if value and key != "page"}
    record("journal.exported", object_type="journal", changes={"rows": len(rows),
                                                               "filters": filters})
    db.session.commit()
    header = ["id", "date", "action", "role", "par", "objet", "identifiant", "changements",
              "adresse"]
    body = csv_text(header, (
        (event.id, event.occurred_dt.astimezone(PARIS).isoformat(timespec="seconds"),
         event.action, event.actor_role, email, event.object_type, event.object_id,
         json.dumps(event.changes, ensure_ascii=False, sort_keys=True), event.address)
        for event, email in rows))
    stamp = clock.now().astimezone(PARIS).strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="journal-{stamp}.csv"'})
