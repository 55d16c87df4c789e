"""``/admin/moderation``: the queue of comments, oldest first, and the decisions on them.

Moderators and admins, within their scope. A moderator never reads anything about
the trainee: the comment, its marks, the course, the body and the session's month.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from avis import clock
from avis.accounts.access import allow, safe_next
from avis.accounts.models import Account, Role
from avis.accounts.scope import scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.catalog.models.courses import Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.moderation import operations, prescreen
from avis.moderation.forms import (
    DECISION_NAMES,
    ERRORS,
    EXCLUSION_REASONS,
    FLAG_LABELS,
    QUALIFICATIONS,
    REJECTION_REASONS,
    TABS,
    ConfirmForm,
    ExcludeForm,
    PublishForm,
    QueueFilterForm,
    RedactForm,
    RejectForm,
)
from avis.moderation.models import ModerationEvent
from avis.surveys.models.answers import DIMENSIONS, Answer, CommentStatus

bp = admin_blueprint("moderation", __name__, template_folder="templates")

MODERATORS = (Role.moderator, Role.admin)
PAGE_SIZE = 20


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"qualifications": QUALIFICATIONS, "rejection_reasons": REJECTION_REASONS,
            "exclusion_reasons": EXCLUSION_REASONS, "tabs": TABS, "dimensions": DIMENSIONS,
            "decision_names": DECISION_NAMES, "flag_labels": FLAG_LABELS,
            "pieces": _pieces}


def _pieces(screening: prescreen.Screening, text: str | None, field: str
            ) -> list[tuple[str, str | None]]:
    """The text cut into pieces, each with the flag it raises (the template escapes each
    and marks the flagged ones)."""
    if not text:
        return []
    return prescreen.highlight(text, screening.in_field(prescreen.Field(field)),
                               field=prescreen.Field(field))


def _screen(answer: Answer) -> prescreen.Screening:
    return prescreen.screen(answer.comment_text, answer.comment_title)


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


def _items(statement: sa.Select) -> sa.Select:
    """What a moderator sees of each answer: never anything about the trainee."""
    return (statement.add_columns(Course.title.label("course_title"),
                                  TrainingBody.name.label("body_name"),
                                  TrainingBody.siret, Session.end_date, Session.departement)
            .join(Course, Course.id == Answer.course_id)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .join(Session, Session.id == Answer.session_id))


def _filtered(form: QueueFilterForm, tab: str) -> sa.Select:
    statement = scoped(Answer).where(Answer.comment_status.is_not(None))
    if tab == "attente":
        statement = statement.where(Answer.comment_status == CommentStatus.pending)
    else:
        statement = statement.where(Answer.comment_status != CommentStatus.pending)
    if form.departement.data:
        statement = statement.where(Session.departement == form.departement.data)
    if form.siret.data:
        statement = statement.where(TrainingBody.siret == form.siret.data)
    if form.depuis.data:
        statement = statement.where(Answer.answered_on >= form.depuis.data)
    if form.jusqu.data:
        statement = statement.where(Answer.answered_on <= form.jusqu.data)
    if form.q.data:
        words = "%" + form.q.data.replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        statement = statement.where(sa.or_(Answer.comment_text.ilike(words, escape="\\"),
                                           Answer.comment_title.ilike(words, escape="\\")))
    return statement


@bp.get("/moderation")
@allow(*MODERATORS)
def queue() -> ResponseReturnValue:
    """Comments awaiting (oldest first) or decided (latest first), 20 a page."""
    form = QueueFilterForm(request.args)
    if not form.validate():
        abort(400)
    tab = form.onglet.data or "attente"
    page = form.page.data or 1
    statement = _items(_filtered(form, tab))
    order = ((Answer.answered_on, Answer.id) if tab == "attente"
             else (Answer.moderated_dt.desc(), Answer.id.desc()))
    rows = db.session.execute(
        statement.add_columns(sa.func.count().over().label("total"))
        .order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    total = rows[0].total if rows else 0
    counts = {name: db.session.scalar(
        sa.select(sa.func.count()).select_from(
            _items(_filtered(form, name)).with_only_columns(Answer.id).subquery()))
        for name in TABS}
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    screenings = {row[0].id: _screen(row[0]) for row in rows}
    return render_template(
        "moderation/queue.html", form=form, tab=tab, rows=rows, total=total, page=page,
        screenings=screenings,
        pages=max(1, -(-total // PAGE_SIZE)), counts=counts, args=args,
        today=clock.today(), publish_form=PublishForm(formdata=None),
        reject_form=RejectForm(formdata=None), here=request.full_path.rstrip("?"))


@bp.get("/moderation/<int:answer_id>")
@allow(*MODERATORS)
def item(answer_id: int) -> ResponseReturnValue:
    """One comment: its decisions so far (with any text a redaction replaced), and every
    decision that can still be taken."""
    found = db.session.execute(_items(scoped(Answer).where(
        Answer.id == answer_id, Answer.comment_status.is_not(None)))).first()
    if found is None:
        abort(404)
    history = db.session.execute(
        sa.select(ModerationEvent, Account.email)
        .outerjoin(Account, Account.id == ModerationEvent.actor_id)
        .where(ModerationEvent.answer_id == answer_id)
        .order_by(ModerationEvent.id)).all()
    answer = found[0]
    screening = _screen(answer)
    suggestion = None
    if screening.has_personal_data or prescreen.Flag.link in screening:
        suggestion = (prescreen.suggest_redaction(answer.comment_title or "", screening.matches,
                                                  field=prescreen.Field.title) or None,
                      prescreen.suggest_redaction(answer.comment_text or "", screening.matches))
    return render_template(
        "moderation/item.html", row=found, answer=answer, history=history,
        screenings={answer.id: screening}, suggestion=suggestion,
        publish_form=PublishForm(formdata=None), reject_form=RejectForm(formdata=None),
        exclude_form=ExcludeForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
        redact_form=RedactForm(formdata=None, data={
            "title": suggestion[0] if suggestion else answer.comment_title,
            "text": suggestion[1] if suggestion else answer.comment_text}),
        today=clock.today())


#: URL word → (form, operation). Each form's fields are the operation's arguments.
_DECISIONS: dict[str, tuple[type, Any]] = {
    "publier": (PublishForm, lambda i, f, by: operations.publish(i, f.qualification.data,
                                                                by=by)),
    "rejeter": (RejectForm, lambda i, f, by: operations.reject(i, f.reason.data, by=by)),
    "retirer": (RejectForm, lambda i, f, by: operations.withdraw(i, f.reason.data, by=by)),
    "annuler": (ConfirmForm, lambda i, f, by: operations.undo(i, by=by)),
    "exclure": (ExcludeForm, lambda i, f, by: operations.exclude(i, f.reason.data, by=by)),
    "reintegrer": (ConfirmForm, lambda i, f, by: operations.include(i, by=by)),
    "texte": (RedactForm, lambda i, f, by: operations.redact(i, title=f.title.data,
                                                            text=f.text.data, by=by)),
}


@bp.post("/moderation/<int:answer_id>/<decision>")
@allow(*MODERATORS)
def decide(answer_id: int, decision: str) -> ResponseReturnValue:
    """Take a decision (POST, CSRF, audited), then go back where the moderator was."""
    if decision not in _DECISIONS:
        abort(404)
    if db.session.scalar(scoped(Answer, Answer.id).where(Answer.id == answer_id)) is None:
        abort(404)  # unknown or someone else's, before anything is read of the form
    form_class, operation = _DECISIONS[decision]
    form = form_class()
    back = safe_next(request.form.get("retour")) or url_for("moderation.item",
                                                            answer_id=answer_id)
    if not form.validate_on_submit():
        flash(gettext("Choose an option before deciding."), "text")
        return redirect(back, code=303)
    try:
        operation(answer_id, form, _me())
    except operations.NotFound:
        db.session.rollback()
        abort(404)
    except operations.AlreadyDecided as late:
        db.session.rollback()
        flash(_already_decided(late), "text")
    except operations.ModerationError as error:
        db.session.rollback()
        flash(str(ERRORS.get(error.code, error.code)), "text")
    else:
        db.session.commit()
        flash(gettext("Done: comment no. %(id)s.", id=answer_id), "text")
    return redirect(back, code=303)


def _already_decided(late: operations.AlreadyDecided) -> str:
    who = db.session.scalar(sa.select(Account.email).where(Account.id == late.actor_id)) \
        if late.actor_id else None
    when = late.occurred_dt.astimezone(clock.PARIS).strftime("%H:%M") if late.occurred_dt \
        else "?"
    return gettext("Someone decided first: %(who)s, at %(when)s (%(what)s).",
                   who=who or "?", when=when, what=late.decision or late.status)
