"""The body's reviews: read, replied to, reported.

``/admin/mon-organisme/avis``: the reviews of the account's establishments, newest first,
with its read marks and what is new since its last visit; each review's page holds the
reply (moderated before it shows, like comments) and the report. What the body never
sees is decided in ``avis.bodies.reviews``.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, gettext, ngettext

from avis.accounts.access import allow, safe_next
from avis.accounts.models import Account, Role
from avis.accounts.scope import scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.bodies import reviews as queries
from avis.bodies.forms import (
    ERRORS,
    REPLY_STATUS_NAMES,
    REPORT_STATUS_NAMES,
    ConfirmForm,
    ReplyForm,
    ReportForm,
    ReviewFilterForm,
)
from avis.db import db
from avis.moderation import replies, reports
from avis.moderation.forms import REJECTION_REASONS, REPORT_REASONS
from avis.moderation.models import Report
from avis.moderation.operations import ModerationError, NotFound
from avis.surveys.models.answers import DIMENSIONS, Reply

bp = admin_blueprint("body_reviews", __name__, template_folder="templates")


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"reply_status_names": REPLY_STATUS_NAMES,
            "report_status_names": REPORT_STATUS_NAMES, "report_reasons": REPORT_REASONS,
            "rejection_reasons": REJECTION_REASONS, "dimensions": DIMENSIONS}


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


def _filters(form: ReviewFilterForm) -> queries.Filters:
    def either(value: str | None, yes: str) -> bool | None:
        return None if not value else value == yes

    return queries.Filters(
        new=bool(form.nouveaux.data), read=either(form.lecture.data, "lus"),
        replied=either(form.reponse.data, "avec"),
        reported=either(form.signalement.data, "oui"),
        course_id=int(form.formation.data) if form.formation.data else None,
        month=dt.date.fromisoformat(form.mois.data + "-01") if form.mois.data else None,
        mark=int(form.note.data) if form.note.data else None)


@bp.get("/mon-organisme/avis")
@allow(Role.organisation)
def reviews() -> ResponseReturnValue:
    """The establishments' reviews, 20 a page, newest first, with their filters; the
    comments awaiting moderation and the rejected ones counted."""
    me = _me()
    since = queries.visit(me)
    db.session.commit()  # the visit counts even if the page then fails
    form = ReviewFilterForm(
        request.args,
        courses={str(course_id): title for course_id, title in queries.courses(me)},
        months={f"{month:%Y-%m}": format_date(month, "MMMM y")
                for month in queries.session_months(me)})
    if not form.validate():
        abort(400)
    page = queries.reviews(me, _filters(form), since, form.page.data or 1)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "bodies/reviews.html", form=form, page=page, args=args, since=since,
        unlisted=queries.unlisted(me), confirm_form=ConfirmForm(formdata=None),
        here=request.full_path.rstrip("?"))


def _review_or_404(answer_id: int) -> queries.Review:
    found = queries.review(_me(), answer_id)
    if found is None:
        abort(404)  # unknown, someone else's, awaiting moderation or rejected: one answer
    return found


def _detail(found: queries.Review, reply_form: ReplyForm | None = None,
            report_form: ReportForm | None = None, status: int = 200
            ) -> ResponseReturnValue:
    reply = db.session.scalar(scoped(Reply).where(Reply.answer_id == found.id))
    report = db.session.scalar(scoped(Report).where(Report.answer_id == found.id))
    if reply_form is None:
        reply_form = ReplyForm(formdata=None, data={"text": reply.text if reply else ""})
    return render_template(
        "bodies/review.html", review=found, reply=reply, report=report,
        reply_form=reply_form, report_form=report_form or ReportForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None)), status


@bp.get("/mon-organisme/avis/<int:answer_id>")
@allow(Role.organisation)
def review(answer_id: int) -> ResponseReturnValue:
    """One review, its reply (and where it stands) and its report, with their forms."""
    return _detail(_review_or_404(answer_id))


def _back(answer_id: int | None = None) -> str:
    """Where the form says to go back to (a path of ours), else the review, else the
    list."""
    return safe_next(request.form.get("retour")) or (
        url_for("body_reviews.review", answer_id=answer_id) if answer_id
        else url_for("body_reviews.reviews"))


@bp.post("/mon-organisme/avis/<int:answer_id>/lu")
@allow(Role.organisation)
def mark_read(answer_id: int) -> ResponseReturnValue:
    """Mark one review as read (for this account only)."""
    _review_or_404(answer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    queries.mark_read(_me(), [answer_id])
    db.session.commit()
    flash(gettext("Review no. %(id)s marked as read.", id=answer_id), "text")
    return redirect(_back(answer_id), code=303)


@bp.post("/mon-organisme/avis/<int:answer_id>/non-lu")
@allow(Role.organisation)
def mark_unread(answer_id: int) -> ResponseReturnValue:
    """Mark one review as unread again."""
    _review_or_404(answer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    queries.mark_unread(_me(), answer_id)
    db.session.commit()
    flash(gettext("Review no. %(id)s marked as unread.", id=answer_id), "text")
    return redirect(_back(answer_id), code=303)


@bp.post("/mon-organisme/avis/lus")
@allow(Role.organisation)
def mark_page_read() -> ResponseReturnValue:
    """Mark every review of the page as read: the ids the page showed travel with the
    form, and only those the account sees are marked."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    marked = queries.mark_read(_me(), ids[:queries.PAGE_SIZE])
    db.session.commit()
    flash(ngettext("%(num)s review marked as read.", "%(num)s reviews marked as read.",
                   marked), "text")
    return redirect(_back(), code=303)


def _refused(error: ModerationError) -> str:
    return str(ERRORS.get(error.code, error.code))


@bp.post("/mon-organisme/avis/<int:answer_id>/reponse")
@allow(Role.organisation)
def reply(answer_id: int) -> ResponseReturnValue:
    """Write or edit the reply: it waits for moderation (again, if it was published)."""
    found = _review_or_404(answer_id)
    form = ReplyForm()
    if not found.has_comment:
        form.text.errors = [_refused(ModerationError("no_comment"))]
        return _detail(found, reply_form=form, status=422)
    if not form.validate_on_submit():
        return _detail(found, reply_form=form, status=422)
    try:
        replies.write(answer_id, form.text.data, by=_me())
    except NotFound:
        db.session.rollback()
        abort(404)
    except ModerationError as error:
        db.session.rollback()
        form.text.errors = [_refused(error)]
        return _detail(found, reply_form=form, status=422)
    db.session.commit()
    flash(gettext("Your reply is saved: it will be published once a moderator has read "
                  "it."), "text")
    return redirect(url_for("body_reviews.review", answer_id=answer_id), code=303)


@bp.post("/mon-organisme/avis/<int:answer_id>/reponse/retirer")
@allow(Role.organisation)
def take_back(answer_id: int) -> ResponseReturnValue:
    """Withdraw the reply, waiting or published: it no longer shows anywhere."""
    _review_or_404(answer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        replies.take_back(answer_id, by=_me())
    except NotFound:
        db.session.rollback()
        flash(gettext("This review has no reply to withdraw."), "text")
    else:
        db.session.commit()
        flash(gettext("Your reply is withdrawn."), "text")
    return redirect(url_for("body_reviews.review", answer_id=answer_id), code=303)


@bp.post("/mon-organisme/avis/<int:answer_id>/signalement")
@allow(Role.organisation)
def report(answer_id: int) -> ResponseReturnValue:
    """Report the review to the moderators (once): it stays online meanwhile."""
    found = _review_or_404(answer_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _detail(found, report_form=form, status=422)
    try:
        reports.report(answer_id, form.reason.data, form.details.data, by=_me())
    except NotFound:
        db.session.rollback()
        abort(404)
    except ModerationError as error:
        db.session.rollback()
        if error.code == "already_reported":
            # A colleague was first: the page shows their report and where it stands.
            flash(_refused(error), "text")
            return redirect(url_for("body_reviews.review", answer_id=answer_id), code=303)
        form.details.errors = [_refused(error)]
        return _detail(found, report_form=form, status=422)
    db.session.commit()
    flash(gettext("Your report is sent. The review stays online while a moderator "
                  "examines it; you will receive the decision by email."), "text")
    return redirect(url_for("body_reviews.review", answer_id=answer_id), code=303)

