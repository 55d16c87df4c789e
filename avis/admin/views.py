"""The back office's home pages (one per role) and training bodies within one's scope."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from avis.accounts.access import EVERYONE, allow
from avis.accounts.models import Account, AccountStatus, Role
from avis.accounts.scope import current_scope, get_or_404, scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.admin.forms import BodyFilterForm, ContactForm
from avis.audit.models import AuditEvent
from avis.audit.operations import record
from avis.catalog.geo import REGION_NAMES
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.public import reviews
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus, Reply

bp = admin_blueprint("admin", __name__, template_folder="templates")

#: Rows of a list page.
PAGE_SIZE = 20


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


@bp.get("/")
@allow(*EVERYONE)
def home() -> ResponseReturnValue:
    """Each role's home page: what needs doing, within the account's scope."""
    account = _me()
    role = Role(account.role)
    if role == Role.organisation:
        # A body's home is its space's: figures, trend, peers (avis/bodies).
        from avis.bodies.home_views import home_page

        return home_page()
    context: dict[str, object] = {"account": account}
    if role == Role.admin:
        context["accounts_by_role"] = dict(db.session.execute(
            sa.select(Account.role, sa.func.count()).where(
                Account.status != AccountStatus.disabled).group_by(Account.role)).all())
        context["invited"] = db.session.scalar(sa.select(sa.func.count()).select_from(Account)
                                               .where(Account.status == AccountStatus.invited))
        context["events"] = db.session.execute(
            scoped(AuditEvent, AuditEvent, Account.email)
            .outerjoin(Account, Account.id == AuditEvent.actor_id)
            .order_by(AuditEvent.id.desc()).limit(10)).all()
    if role in (Role.moderator, Role.admin):
        context["pending_comments"] = db.session.scalar(
            scoped(Answer, sa.func.count()).where(Answer.comment_status == CommentStatus.pending))
        context["oldest_pending"] = db.session.scalar(
            scoped(Answer, sa.func.min(Answer.answered_on))
            .where(Answer.comment_status == CommentStatus.pending))
        context["pending_replies"] = db.session.scalar(
            scoped(Reply, sa.func.count()).where(Reply.status == CommentStatus.pending))
    if role in (Role.region, Role.moderator) and account.region_code:
        context["region_name"] = REGION_NAMES.get(account.region_code, account.region_code)
        context["region_score"] = db.session.scalar(sa.select(Score).where(
            Score.scope == ScoreScope.region, Score.key == account.region_code))
    if role == Role.region:
        context["bodies_count"] = db.session.scalar(scoped(TrainingBody, sa.func.count()))
        region_score = context.get("region_score")
        if not account.funder_codes and region_score is not None:
            # The hourly scores already counted the région's answers (a live count reads
            # a hundred thousand index entries per page at national scale).
            context["answers_count"] = region_score.answers_count
        else:
            context["answers_count"] = db.session.scalar(scoped(Answer, sa.func.count()))
    return render_template(f"admin/home_{role.value}.html", **context)


def _with_scores(bodies: list[TrainingBody]) -> list[tuple[TrainingBody, sa.Row | None]]:
    """Each body with the figures a list shows of its score (plain rows: a whole Score
    with its five distributions cost a fifth of the page)."""
    if not bodies:
        return []
    rows = db.session.execute(
        sa.select(Score.key, Score.answers_count, Score.has_score, Score.is_public,
                  Score.fair_score)
        .where(Score.scope == ScoreScope.body,
               Score.key.in_([str(body.id) for body in bodies]))).all()
    scores = {int(row.key): row for row in rows}
    return [(body, scores.get(body.id)) for body in bodies]


@bp.get("/organismes")
@allow(*EVERYONE)
def bodies() -> ResponseReturnValue:
    """The training bodies within one's scope, by name or SIRET."""
    form = BodyFilterForm(request.args)
    if not form.validate():
        abort(400)
    statement = scoped(TrainingBody)
    text = form.q.data or ""
    if text:
        digits = text.replace(" ", "")
        if digits.isdigit():
            statement = statement.where(TrainingBody.siret.startswith(digits, autoescape=True))
        else:
            statement = statement.where(TrainingBody.name.ilike(
                f"%{_escape_like(text)}%", escape="\\"))
    page = form.page.data or 1
    # The page and the total in one query: the scope's body set is computed once.
    found = db.session.execute(
        statement.add_columns(sa.func.count().over().label("total"))
        .order_by(TrainingBody.name, TrainingBody.siret)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    if found:
        total = found[0].total
    else:  # beyond the last page: no row carries the total
        total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = _with_scores([row[0] for row in found])
    return render_template("admin/bodies.html", form=form, rows=rows, total=total or 0,
                           page=page, pages=max(1, -(-(total or 0) // PAGE_SIZE)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/organismes/<siret>")
@allow(*EVERYONE)
def body(siret: str) -> ResponseReturnValue:
    """One training body: its figures and published comments, within one's scope."""
    found = get_or_404(TrainingBody, TrainingBody.siret == siret)
    return _body_page(found, ContactForm(data={"contact_email": found.contact_email}))


def _body_page(found: TrainingBody, contact_form: ContactForm) -> ResponseReturnValue:
    scope = current_scope()
    about = sa.and_(Answer.training_body_id == found.id, scope.where(Answer))
    statuses = dict(db.session.execute(
        sa.select(Answer.comment_status, sa.func.count()).where(about)
        .group_by(Answer.comment_status)).all())
    score = db.session.scalar(sa.select(Score).where(Score.scope == ScoreScope.body,
                                                     Score.key == str(found.id)))
    page = request.args.get("page", 1, type=int)
    comments = reviews.comments(about, max(1, min(page, 1000)))
    can_edit_contact = Role(_me().role) in (Role.admin, Role.moderator)
    return render_template("admin/body.html", body=found, score=score, statuses=statuses,
                           comments=comments, answers=sum(statuses.values()),
                           contact_form=contact_form if can_edit_contact else None)


@bp.post("/organismes/<siret>/contact")
@allow(Role.admin, Role.moderator)
def body_contact(siret: str) -> ResponseReturnValue:
    """Change the address a body's account invitation and notifications go to."""
    found = get_or_404(TrainingBody, TrainingBody.siret == siret)
    form = ContactForm()
    if not form.validate_on_submit():
        return _body_page(found, form), 422
    new = (form.contact_email.data or "").lower() or None
    if new != found.contact_email:
        record("training_body.contact_changed", object_type="training_body",
               object_id=found.siret,
               changes={"contact_email": ["set" if found.contact_email else "empty",
                                          "set" if new else "empty"]})
        found.contact_email = new
        db.session.commit()
        flash("contact_saved")
    return redirect(url_for("admin.body", siret=found.siret), code=303)
