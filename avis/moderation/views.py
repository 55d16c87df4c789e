"""``/admin/moderation``: the queue of comments, oldest first, and the decisions on them.

Moderators and admins, within their scope. A moderator never reads anything about
the trainee: the comment, its marks, the course, the body and the session's month.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale, gettext, ngettext
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from avis import clock
from avis.accounts.access import allow, safe_next
from avis.accounts.models import Account, Role
from avis.accounts.scope import Scope, scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.audit.operations import record
from avis.catalog.models.courses import Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.moderation import operations, prescreen, replies, reports, search
from avis.moderation.forms import (
    DECISION_NAMES,
    ERRORS,
    EXCLUSION_REASONS,
    FLAG_LABELS,
    QUALIFICATIONS,
    REJECTION_REASONS,
    REPORT_REASONS,
    SUBJECT_NAMES,
    TABS,
    ConfirmForm,
    ExcludeForm,
    KeepForm,
    PageForm,
    PublishForm,
    QueueFilterForm,
    RedactForm,
    RejectForm,
    RemoveForm,
)
from avis.moderation.models import ModerationEvent, Report, ReportStatus
from avis.surveys.models.answers import DIMENSIONS, Answer, CommentStatus, Qualification, Reply

bp = admin_blueprint("moderation", __name__, template_folder="templates")

MODERATORS = (Role.moderator, Role.admin)
PAGE_SIZE = 20


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"qualifications": QUALIFICATIONS, "rejection_reasons": REJECTION_REASONS,
            "exclusion_reasons": EXCLUSION_REASONS, "tabs": TABS, "dimensions": DIMENSIONS,
            "decision_names": DECISION_NAMES, "flag_labels": FLAG_LABELS,
            "report_reasons": REPORT_REASONS, "subject_names": SUBJECT_NAMES, "takers": {},
            "decide_url": _decide_urls(), "item_url": _item_url(), "pieces": _pieces,
            "options": functools.partial(_options, str(get_locale())),
            "month_of": functools.partial(_month, str(get_locale())),
            # One token per page, not two per comment.
            "csrf": generate_csrf()}


@functools.lru_cache(maxsize=64)
def _options(locale: str, kind: str) -> Markup:
    """The ``<option>``s of a decision's select, made once per language: twenty comments
    a page, each with two selects, made them a tenth of the page."""
    labels = {"qualifications": QUALIFICATIONS, "rejection_reasons": REJECTION_REASONS}[kind]
    return Markup("").join(Markup('<option value="{}">{}</option>').format(value, label)
                           for value, label in labels.items())


@functools.lru_cache(maxsize=1024)
def _month(locale: str, day: dt.date) -> str:
    """"mars 2026": a session's month, formatted once per language and month."""
    return format_date(day, "MMMM y")


def _pieces(screening: prescreen.Screening, text: str | None, field: str
            ) -> list[tuple[str, str | None]]:
    """The text cut into pieces, each with the flag it raises (the template escapes each
    and marks the flagged ones)."""
    if not text:
        return []
    return prescreen.highlight(text, screening.in_field(prescreen.Field(field)),
                               field=prescreen.Field(field))


def _screen(answer: Answer) -> prescreen.Screening:
    return prescreen.screen_kept(answer.comment_text, answer.comment_title)


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


def _base(tab: str) -> sa.Select:
    """The tab's items within the scope: ``Answer`` first, then the reply or report."""
    if tab == "reponses":
        return (scoped(Answer).add_columns(Reply).join(Reply, Reply.answer_id == Answer.id)
                .where(Reply.status == CommentStatus.pending))
    if tab == "signalements":
        return (scoped(Answer).add_columns(Report).join(Report, Report.answer_id == Answer.id)
                .where(Report.status == ReportStatus.open))
    statement = scoped(Answer).where(Answer.comment_status.is_not(None))
    if tab == "attente":
        return statement.where(Answer.comment_status == CommentStatus.pending)
    return statement.where(Answer.comment_status != CommentStatus.pending)


def _flag_filter(signal: str, flags: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    if signal == "aucun":
        return flags == 0
    bits = {"tous": sum(prescreen.FLAG_BITS.values()),
            "donnees": prescreen.PERSONAL_DATA_BITS}.get(signal) \
        or prescreen.FLAG_BITS[prescreen.Flag(signal)]
    return flags.op("&")(bits) != 0


def _filtered(form: QueueFilterForm, tab: str, *, words: bool = True) -> sa.Select:
    """The tab's items the filters keep (all but the words when ``words`` is false)."""
    statement = _base(tab)
    # The page's ids and the counts read answers alone (a semi-join for the body).
    if form.departement.data:
        statement = statement.where(Answer.departement == form.departement.data)
    if form.siret.data:
        statement = statement.where(Answer.training_body_id.in_(sa.select(
            TrainingBody.id).where(TrainingBody.siret == form.siret.data)))
    if form.depuis.data:
        statement = statement.where(Answer.answered_on >= form.depuis.data)
    if form.jusqu.data:
        statement = statement.where(Answer.answered_on <= form.jusqu.data)
    if form.signal.data:
        statement = statement.where(_flag_filter(
            form.signal.data, Reply.flags if tab == "reponses" else Answer.flags))
    if form.lot.data and tab == "attente":
        taken = sa.and_(Answer.assigned_to_id.is_not(None),
                        Answer.assigned_until > clock.now())
        statement = statement.where(
            sa.and_(taken, Answer.assigned_to_id == _me().id) if form.lot.data == "miens"
            else sa.not_(taken))
    if words and form.q.data:
        statement = statement.where(search.matches(_searched(tab), form.q.data))
    return statement


def _searched(tab: str) -> list[search.Searched]:
    """The texts a word is looked for in: the comment's, and the reply's or report's."""
    searched = [search.Searched(Answer.comment_text, Answer.comment_text_lower, Answer.id),
                search.Searched(Answer.comment_title, Answer.comment_title_lower)]
    if tab == "reponses":
        searched.append(search.Searched(Reply.text))
    if tab == "signalements":
        searched.append(search.Searched(Report.text))
    return searched


#: Oldest first, but the decided ones latest first.
_ORDER = {
    "attente": (Answer.answered_on, Answer.id),
    "reponses": (sa.func.coalesce(Reply.updated_dt, Reply.created_dt), Reply.id),
    "signalements": (Report.created_dt, Report.id),
    "decides": (Answer.moderated_dt.desc(), Answer.id.desc()),
}


@bp.get("/moderation")
@allow(*MODERATORS)
def queue() -> ResponseReturnValue:
    """Comments, replies or reports awaiting (oldest first), or the decided comments
    (latest first), 20 a page."""
    form = QueueFilterForm(request.args)
    if not form.validate():
        abort(400)
    tab = form.onglet.data or "attente"
    page = form.page.data or 1
    rows, found = _page_rows(form, tab, page)
    total = _open_count(form, tab, page, found)
    counts: dict[str, int | None] = dict.fromkeys(TABS)
    counts[tab] = total
    # A word in more items of the open tab than the cap leaves the other tabs uncounted
    # ("—"): the trigram index serves every tab, so each of their counts would read those
    # thousands of matches again (15–35 ms each for a word in one comment in five).
    if not (form.q.data and total > COUNT_CAP):
        counts.update((name, _capped_count(_filtered(form, name)))
                      for name in TABS if name != tab)
    pages = page + 1 if len(found) > PAGE_SIZE else page
    if total <= COUNT_CAP:
        pages = max(1, -(-total // PAGE_SIZE))
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    screenings = {row[0].id: _screen(row[0]) for row in rows}
    takers = _takers(row[0] for row in rows)
    unflagged = [row[0].id for row in rows if tab == "attente"
                 and row[0].comment_status == CommentStatus.pending
                 and not screenings[row[0].id]]
    return render_template(
        "moderation/queue.html", form=form, tab=tab, rows=rows, total=total, page=page,
        filters=_filters(str(get_locale()), tab, tuple(sorted(
            (key, value) for key, value in request.args.items() if key != "page"))),
        screenings=screenings, takers=takers, unflagged=unflagged,
        reply_screenings={row[1].id: prescreen.screen_kept(row[1].text) for row in rows
                          if tab == "reponses"},
        pages=pages, count_cap=COUNT_CAP, counts=counts, args=args, now=clock.now(),
        today=clock.today(), publish_form=PublishForm(formdata=None),
        reject_form=RejectForm(formdata=None), keep_form=KeepForm(formdata=None),
        remove_form=RemoveForm(formdata=None), page_form=PageForm(formdata=None),
        here=request.full_path.rstrip("?"))


@functools.lru_cache(maxsize=512)
def _filters(locale: str, tab: str, query: tuple[tuple[str, str], ...]) -> Markup:
    """The filters' form, made once per language, tab and query: its fields (a select of
    a hundred départements among them) were a third of the queue page's rendering. The
    query has been validated (a wrong one is a 400 before this)."""
    return Markup(render_template("moderation/_filters.html", tab=tab,
                                  form=QueueFilterForm(MultiDict(query))))


def _decide_urls() -> Any:
    """``url(answer_id, word)`` for the decision forms: one URL built, the others
    formatted from it (forty ``url_for`` calls were a tenth of the page)."""
    pattern = url_for("moderation.decide", answer_id=0, decision="WORD")
    head, tail = pattern.rsplit("/0/", 1)
    return lambda answer_id, word: f"{head}/{int(answer_id)}/{tail.replace('WORD', word)}"


def _item_url() -> Any:
    """``url(answer_id)`` of a comment's own page, formatted like ``_decide_urls``."""
    head = url_for("moderation.item", answer_id=0).removesuffix("0")
    return lambda answer_id: f"{head}{int(answer_id)}"


#: Counts above this show as "1 000+": an exact count of 200,000 waiting comments costs
#: a scan on every page, and nobody needs more than "a lot".
COUNT_CAP = 1000


def _capped_count(statement: sa.Select) -> int:
    """The rows of ``statement``, counted up to ``COUNT_CAP + 1``."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        statement.with_only_columns(sa.literal(1)).limit(COUNT_CAP + 1).subquery())) or 0


def _page_rows(form: QueueFilterForm, tab: str, page: int
               ) -> tuple[list[sa.Row], list[sa.Row]]:
    """The page's items, and the keys and order of those found (one more than a page
    when another page follows). The page's keys first, from the filtered answers alone
    (an index walk in queue order); then only those 20 rows joined to what a moderator
    reads (joining first would join every waiting comment)."""
    keys = _KEYS[tab]
    found: list[sa.Row] | None = None
    if form.q.data:
        # Words: first a walk of the tab's first items in order, on the lowered copies
        # (``avis.moderation.search``); then, if the page is not among them, the plain
        # query, whose plan the trigram index serves for a rare word.
        walked = search.first_matches(
            _filtered(form, tab, words=False), keys=keys, order=_ORDER[tab],
            searched=_searched(tab), words=form.q.data, wanted=PAGE_SIZE + 1,
            items=search.PAGE_ROWS, skip=(page - 1) * PAGE_SIZE)
        if walked.settles(PAGE_SIZE + 1):
            found = walked.rows
    if found is None:
        found = db.session.execute(
            _filtered(form, tab).with_only_columns(*keys, *map(search.unordered, _ORDER[tab]))
            .order_by(*_ORDER[tab]).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        ).all()
    chosen = [row[len(keys) - 1] for row in found[:PAGE_SIZE]]
    if not chosen:
        return [], found
    rows = db.session.execute(_items(_base(tab).where(keys[-1].in_(chosen)))
                              .order_by(*_ORDER[tab])).all()
    return rows, found


def _open_count(form: QueueFilterForm, tab: str, page: int, found: list[sa.Row]) -> int:
    """The open tab's capped count. Under a word search, from what the page's query
    found when it tells (fewer than a page: the last page; a page past the cap), else by
    walking on from the page's last item (``avis.moderation.search``): the plain count
    of a common word read every comment with it."""
    if not form.q.data:
        return _capped_count(_filtered(form, tab))
    if not found:
        # Nothing on the first page: nothing at all; past the last page: unknown.
        return 0 if page == 1 else _capped_count(_filtered(form, tab))
    seen = (page - 1) * PAGE_SIZE + len(found)
    if len(found) <= PAGE_SIZE or seen > COUNT_CAP:
        return min(seen, COUNT_CAP + 1)  # the last page, or a page past the cap
    if tab in _NEVER_NULL_ORDER:
        wanted = COUNT_CAP + 1 - seen
        last = found[-1][len(_KEYS[tab]):]
        more = search.first_matches(
            _filtered(form, tab, words=False).where(search.after(_ORDER[tab], last)),
            keys=_KEYS[tab][-1:], order=_ORDER[tab], searched=_searched(tab),
            words=form.q.data, wanted=wanted)
        if more.settles(wanted):
            return seen + len(more.rows)
    return _capped_count(_filtered(form, tab))


#: What identifies an item of each tab (its last column is the key of the page's rows).
_KEYS = {
    "attente": (Answer.id,),
    "decides": (Answer.id,),
    "reponses": (Answer.id, Reply.id),
    "signalements": (Answer.id, Report.id),
}
#: The tabs whose order is never null, so that a row comparison finds what follows an
#: item (a decided comment may have no decision time: those of before the moderation).
_NEVER_NULL_ORDER = {"attente", "reponses", "signalements"}


def _takers(answers: Iterable[Answer]) -> dict[int, str]:
    """Who took which comment of the page in a batch (while it is theirs)."""
    now = clock.now()
    ids = {a.assigned_to_id for a in answers
           if a.assigned_to_id and a.assigned_until and a.assigned_until > now}
    return dict(db.session.execute(
        sa.select(Account.id, Account.email).where(Account.id.in_(ids))).all()) \
        if ids else {}


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
    return _take(answer_id, *_DECISIONS[decision],
                 gettext("Done: comment no. %(id)s.", id=answer_id),
                 fallback=url_for("moderation.item", answer_id=answer_id))


def _back(fallback: str | None = None) -> str:
    """Where the form says to go back to (a path of ours), else ``fallback``, else the
    queue."""
    return safe_next(request.form.get("retour")) or fallback or url_for("moderation.queue")


def _to_the_list(back: str) -> str:
    """Back to the queue, at its list: the message first, the next item's controls at the
    next Tab (not 20 Tabs away at the top of the page)."""
    if urlsplit(back).path == url_for("moderation.queue") and "#" not in back:
        return back + "#file"
    return back


def _take(item_id: int, form_class: type, operation: Any, done: str,
          fallback: str | None = None) -> ResponseReturnValue:
    """Validate the decision's form, take it, commit, and go back where the moderator
    was with a message saying what happened."""
    form = form_class()
    back = _back(fallback)
    if not form.validate_on_submit():
        flash(gettext("Choose an option before deciding."), "text")
        return redirect(_to_the_list(back), code=303)
    try:
        operation(item_id, form, _me())
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
        flash(done, "text")
    return redirect(_to_the_list(back), code=303)


def _already_decided(late: operations.AlreadyDecided) -> str:
    who = db.session.scalar(sa.select(Account.email).where(Account.id == late.actor_id)) \
        if late.actor_id else None
    when = late.occurred_dt.astimezone(clock.PARIS).strftime("%H:%M") if late.occurred_dt \
        else "?"
    return gettext("Someone decided first: %(who)s, at %(when)s (%(what)s).",
                   who=who or "?", when=when, what=late.decision or late.status)


#: Replies: URL word → (form, operation).
_REPLY_DECISIONS: dict[str, tuple[type, Any]] = {
    "publier": (ConfirmForm, lambda i, f, by: replies.publish(i, by=by)),
    "rejeter": (RejectForm, lambda i, f, by: replies.reject(i, f.reason.data, by=by)),
    "retirer": (RejectForm, lambda i, f, by: replies.withdraw(i, f.reason.data, by=by)),
    "annuler": (ConfirmForm, lambda i, f, by: replies.undo(i, by=by)),
}
#: Reports: URL word → (form, operation).
_REPORT_DECISIONS: dict[str, tuple[type, Any]] = {
    "garder": (KeepForm, lambda i, f, by: reports.keep(i, f.message.data, by=by)),
    "retirer": (RemoveForm, lambda i, f, by: reports.remove(i, f.reason.data, f.message.data,
                                                            by=by)),
}


@bp.post("/moderation/reponses/<int:reply_id>/<decision>")
@allow(*MODERATORS)
def decide_reply(reply_id: int, decision: str) -> ResponseReturnValue:
    """A decision on a body's reply (POST, CSRF, audited)."""
    if decision not in _REPLY_DECISIONS:
        abort(404)
    if db.session.scalar(scoped(Reply, Reply.id).where(Reply.id == reply_id)) is None:
        abort(404)
    return _take(reply_id, *_REPLY_DECISIONS[decision],
                 gettext("Done: reply no. %(id)s.", id=reply_id))


@bp.post("/moderation/signalements/<int:report_id>/<decision>")
@allow(*MODERATORS)
def decide_report(report_id: int, decision: str) -> ResponseReturnValue:
    """A decision on a body's report (POST, CSRF, audited); the body is told by email."""
    if decision not in _REPORT_DECISIONS:
        abort(404)
    if db.session.scalar(scoped(Report, Report.id).where(Report.id == report_id)) is None:
        abort(404)
    return _take(report_id, *_REPORT_DECISIONS[decision],
                 gettext("Done: report no. %(id)s.", id=report_id))


def _page_ids() -> list[int]:
    """The comment ids a page form carried (at most a page's worth, numbers only)."""
    ids = [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    return ids[:PAGE_SIZE]


@bp.post("/moderation/publier-la-page")
@allow(*MODERATORS)
def publish_page() -> ResponseReturnValue:
    """Publish every comment of the page the pre-screening did not flag, once the
    moderator confirms having read them. Each is screened again (its text may have
    changed since the page was shown) and decided on its own, with its own audit event;
    the tone follows the marks (4 and more positive, 2 and less negative)."""
    form = PageForm()
    back = _back()
    if not form.validate_on_submit() or not form.confirm.data:
        flash(gettext("Tick the box to confirm you have read these comments."), "text")
        return redirect(_to_the_list(back), code=303)
    me = _me()
    answers = db.session.scalars(scoped(Answer).where(
        Answer.id.in_(_page_ids()), Answer.comment_status == CommentStatus.pending)).all()
    published = skipped = 0
    for answer in answers:
        if prescreen.screen_kept(answer.comment_text, answer.comment_title):
            skipped += 1
            continue
        try:
            operations.publish(answer.id, _tone(answer), by=me)
        except operations.ModerationError:
            skipped += 1  # decided meanwhile by someone else: their decision stands
        else:
            published += 1
    db.session.commit()
    flash(ngettext("%(num)s comment published.", "%(num)s comments published.", published)
          + (" " + ngettext("%(num)s left for a closer look.", "%(num)s left for a closer look.",
                            skipped) if skipped else ""), "text")
    return redirect(_to_the_list(back), code=303)


def _tone(answer: Answer) -> Qualification:
    if answer.overall >= 4:
        return Qualification.positive
    return Qualification.negative if answer.overall <= 2 else Qualification.neutral


#: How long a batch stays a moderator's.
BATCH_TIME = dt.timedelta(hours=2)


@bp.post("/moderation/prendre")
@allow(*MODERATORS)
def take_batch() -> ResponseReturnValue:
    """Take the page's waiting comments as one's batch for two hours: others see them
    taken (and may still decide: the first decision wins, as always). Comments another
    moderator holds stay theirs."""
    form = PageForm()
    back = _back()
    if not form.validate_on_submit():
        abort(400)
    me, now = _me(), clock.now()
    taken = db.session.execute(
        sa.update(Answer)
        .where(Answer.id.in_(_page_ids()), Answer.comment_status == CommentStatus.pending,
               Scope.of(me).where(Answer),
               sa.or_(Answer.assigned_to_id.is_(None), Answer.assigned_until <= now,
                      Answer.assigned_to_id == me.id))
        .values(assigned_to_id=me.id, assigned_until=now + BATCH_TIME)
        .execution_options(synchronize_session=False)).rowcount
    record("moderation.take_batch", changes={"count": taken}, actor=me)
    db.session.commit()
    flash(ngettext("%(num)s comment taken for two hours.",
                   "%(num)s comments taken for two hours.", taken), "text")
    return redirect(_to_the_list(back), code=303)


@bp.post("/moderation/rendre")
@allow(*MODERATORS)
def release_batch() -> ResponseReturnValue:
    """Give one's batch back: its comments are free for others again."""
    form = PageForm()
    back = _back()
    if not form.validate_on_submit():
        abort(400)
    me = _me()
    released = db.session.execute(
        sa.update(Answer).where(Answer.assigned_to_id == me.id)
        .values(assigned_to_id=None, assigned_until=None)
        .execution_options(synchronize_session=False)).rowcount
    record("moderation.release_batch", changes={"count": released}, actor=me)
    db.session.commit()
    flash(gettext("Your batch is free for others again."), "text")
    return redirect(_to_the_list(back), code=303)
