"""Enrolments, invitations and answers → the funnel's counts (``monitoring_counts``),
set-based: the database counts and writes.

The steps. Each invitation counts in every step it is known to have reached. Provider
events arrive late and out of order (an "open" before "delivered", a "delivered" for
an email recorded as "outcome unknown", a click on the link of an email whose status
never moved), so a step is reached when its own evidence is there or a later step's is:

- imported: an enrolment (end-of-training rows only: an enrolment counts once);
- invited: an invitation exists;
- sent: its first email reached the provider (``first_sent_dt``), or it bounced, or it
  went further;
- delivered: the provider reported it delivered, or it was marked as spam (which needs
  a mailbox), unless it then bounced; or it went further;
- opened: the provider saw it opened, or it went further;
- clicked: the trainee opened the questionnaire (``clicked_dt``), or answered;
- answered: status ``answered``.
Besides: bounced, complained, unsubscribed, expired, failed, by the status of today.
So every step holds the next one: invited ≥ sent ≥ delivered ≥ opened ≥ clicked ≥
answered. The response rate is answered ÷ (sent − bounced), the share of the emails
that did not bounce: like the public scores' rate, it does not rest on delivery events
that a provider (or the SMTP backend) may never send.

Answers are anonymous: they name their session, not their invitation. Their sums
(marks, satisfied, would recommend; follow-ups "in work") count with their session, with
the body and course they were about, and with the session's first campaign
(alphabetically) — a session's trainees almost always come from one import. Answers
excluded by moderation do not count.

Rows. One per (session, campaign, kind, body, course), with the session's région,
département, month of end, funders and funding scheme copied: filtering by any of them
keeps or drops whole rows, and each enrolment, invitation and answer is in one row.

Tables of sums. ``monitoring_month_counts`` holds the same counts summed per région,
campaign, month, funders, funding scheme and kind (a few thousand rows for the country);
``monitoring_body_counts`` and ``monitoring_course_counts`` per body (course), région,
département and kind, over every month (some 60,000 rows: a body ends a session or two a
month, so its session rows barely merge under any key that keeps the month). The
dashboard reads the smallest table that has the columns a page filters and groups by. A
rebuild sums them again; a refresh adds to them what the recounted sessions' rows
changed (minus the old rows, plus the new: integer sums, so exactly what a rebuild
gives).

Runs. ``rebuild()`` (daily) computes every row again. ``refresh()`` (hourly) computes
again the rows of the sessions touched since the previous run (``monitoring_runs``), and
writes only those that differ from the stored ones (most do not: a session's other
campaigns and kinds, sessions touched by a change that counts nowhere). Touched:
answers and follow-ups with a higher id than its watermark, answers excluded or included
again, enrolments created, invitations whose status, first send, delivery, opening or
first click is dated since ``SAFETY_MARGIN`` before it (an answer moves its invitation
in its own transaction: one that committed late, with an id below the watermark, is
found by that time). Not seen by ``refresh`` (the daily rebuild catches them): sessions
moved to another place, action, month or funder, rows removed by an erasure, and a
provider's event arriving more than the margin after the time it carries on an
invitation whose status can no longer move.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import CodeList, db
from avis.monitoring.models.funnel import (
    FunnelBodyCount,
    FunnelCount,
    FunnelCourseCount,
    FunnelMonthCount,
    FunnelRun,
)
from avis.surveys.models.answers import DIMENSIONS, Answer, FollowUpAnswer, Situation
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

#: How far before the previous run ``refresh`` looks for changes that committed late or
#: carry a provider's (earlier) time. An hour, not the scores' day: answers are found by
#: their id and by their invitation's ``status_dt`` (an exact time, set in the answer's
#: transaction), not by their day, which would recount every session answered since
#: yesterday at every run.
SAFETY_MARGIN = dt.timedelta(hours=1)

S = InvitationStatus
#: The funnel's steps, in order.
STEPS = ("enrolled", "invited", "sent", "delivered", "opened", "clicked", "answered")
#: What happened to the invitations beside the funnel.
OUTCOMES = ("bounced", "complained", "unsubscribed", "expired", "failed")
#: What the answers give.
ANSWER_SUMS = ("answers", "marks_total", "satisfied", "recommended", "follow_ups", "employed")
#: Every count of a row.
COUNTS = (*STEPS, *OUTCOMES, *ANSWER_SUMS)
#: The row's key and the dimensions copied from its session.
_KEY = ("session_id", "campaign", "kind", "training_body_id", "course_id")
_PLACE = ("region_code", "departement", "end_month", "funders", "funding_scheme")

_table: sa.Table = FunnelCount.__table__  # type: ignore[assignment]
_months: sa.Table = FunnelMonthCount.__table__  # type: ignore[assignment]
#: The key of a ``monitoring_month_counts`` row.
MONTH_KEY = ("region_code", "campaign", "end_month", "funders", "funding_scheme", "kind")
#: Each table of sums of the session rows, and its key.
SUMMED: dict[sa.Table, tuple[str, ...]] = {
    _months: MONTH_KEY,
    FunnelBodyCount.__table__: ("training_body_id", "region_code", "departement", "kind"),
    FunnelCourseCount.__table__: ("course_id", "region_code", "departement", "kind"),
}

# Temporary tables of a refresh (their own metadata: no migration makes them).
_scratch = sa.MetaData()
#: The sessions a refresh counts again, with what their rows copy from them.
_touched = sa.Table(
    "monitoring_touched_sessions", _scratch,
    sa.Column("session_id", sa.Integer, primary_key=True),
    sa.Column("training_body_id", sa.Integer), sa.Column("course_id", sa.Integer),
    *(sa.Column(name, _table.c[name].type) for name in _PLACE if name != "funders"),
    sa.Column("funders", CodeList), prefixes=["TEMPORARY"])


def _rows_table(name: str, *extra: Any) -> sa.Table:
    """A temporary table of ``monitoring_counts`` rows (without their id)."""
    return sa.Table(name, _scratch, *(
        sa.Column(c, sa.String(20) if c == "kind" else CodeList if c == "funders"
                  else _table.c[c].type) for c in (*_KEY, *_PLACE, *COUNTS)), *extra,
        prefixes=["TEMPORARY"])


#: The touched sessions' rows computed again, before they replace the old ones; those
#: equal to a stored row are marked ``same`` (most of them: a session's rows of its other
#: campaigns and kinds, sessions touched by a change of nothing counted), and left alone.
_fresh = _rows_table("monitoring_fresh_counts",
                     sa.Column("same", sa.Boolean, nullable=False),
                     sa.PrimaryKeyConstraint(*_KEY))
#: The touched sessions' rows replaced, counts negated: with the new ones, what the
#: tables of sums change by.
_gone = _rows_table("monitoring_gone_counts")
_SCRATCH = (_touched, _fresh, _gone)


def step_conditions() -> dict[str, Any]:
    """Each step and outcome as a condition on an invitation (see the module's text)."""
    i = Invitation
    answered = i.status == S.answered
    clicked = sa.or_(i.clicked_dt.is_not(None), answered)
    opened = sa.or_(i.opened_dt.is_not(None), i.status == S.opened, clicked)
    delivered = sa.or_(opened, sa.and_(
        sa.or_(i.delivered_dt.is_not(None), i.status.in_([S.delivered, S.complained])),
        i.status != S.bounced))
    sent = sa.or_(delivered, i.first_sent_dt.is_not(None), i.status.in_([S.sent, S.bounced]))
    return {"invited": i.id.is_not(None), "sent": sent, "delivered": delivered,
            "opened": opened, "clicked": clicked, "answered": answered,
            **{name: i.status == S(name) for name in OUTCOMES}}


def _count_if(condition: Any) -> Any:
    return sa.cast(sa.func.count().filter(condition), sa.Integer)


def month_of(day: Any) -> Any:
    """The first day of the month of the date ``day``, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", day), sa.Date)
    return sa.type_coerce(sa.func.date(day, "start of month"), sa.Date)


def places(sessions: Any | None = None) -> Any:
    """Every session (or those whose id ``sessions``, a SELECT or a list of ids, gives)
    with what its rows copy from it: its action's body and course of today, its place,
    month of end, funders and scheme. Columns: ``session_id`` and those of ``_PLACE``."""
    query = (sa.select(Session.id.label("session_id"), Action.training_body_id,
                       Action.course_id, Session.region_code, Session.departement,
                       month_of(Session.end_date).label("end_month"), Session.funding_scheme,
                       Session.funders)
             .join(Action, Action.id == Session.action_id))
    if sessions is not None:
        query = query.where(Session.id.in_(sessions))
    return query


def rows_of(sessions: Any) -> Any:
    """The rows of ``monitoring_counts`` of the sessions of ``sessions`` (``places()`` as a
    subquery, or a table of the same columns), in the order of ``_KEY``, ``_PLACE``,
    ``COUNTS``.

    Each enrolment is read once with its invitations (one index look-up: both kinds
    at once); answers and follow-ups are read by session; what the sources give is
    summed per row's key, and the row placed with its session."""
    p = sessions.c
    zero = sa.literal(0, sa.Integer)
    # Each enrolment with its invitations (one row per invitation; one without any): a
    # single index look-up per enrolment; an enrolment counts once (count distinct).
    i = Invitation
    conditions = step_conditions()
    joined = (sa.join(sessions, Enrolment, Enrolment.session_id == p.session_id)
              .outerjoin(i, i.enrolment_id == Enrolment.id))
    # A session's enrolments per campaign, with the counts of each kind (e_…, f_…).
    enrolments = (sa.select(Enrolment.session_id, Enrolment.campaign, p.training_body_id,
                            p.course_id,
                            sa.cast(sa.func.count(sa.distinct(Enrolment.id)), sa.Integer)
                            .label("enrolled"),
                            *(_count_if(sa.and_(i.kind == kind, condition))
                              .label(f"{kind.value[0]}_{name}")
                              for kind in InvitationKind
                              for name, condition in conditions.items()))
                  .select_from(joined)
                  .group_by(Enrolment.session_id, Enrolment.campaign, p.training_body_id,
                            p.course_id).cte("enrolled"))
    e = enrolments.c
    names = ("invited", *STEPS[2:], *OUTCOMES)
    queries = [
        # End of training: every enrolment, invited or not.
        sa.select(e.session_id, e.campaign,
                  sa.literal(InvitationKind.end_of_training.value).label("kind"),
                  e.training_body_id, e.course_id, e.enrolled,
                  *(e[f"e_{name}"].label(name) for name in names)),
        # Follow-up: the invited ones.
        sa.select(e.session_id, e.campaign,
                  sa.literal(InvitationKind.follow_up.value).label("kind"),
                  e.training_body_id, e.course_id, zero.label("enrolled"),
                  *(e[f"f_{name}"].label(name) for name in names)).where(e.f_invited > 0),
    ]
    # The campaign answers count with: the session's first.
    campaigns = (sa.select(e.session_id, sa.func.min(e.campaign).label("campaign"))
                 .group_by(e.session_id).subquery("campaigns"))
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    queries.append(
        sa.select(Answer.session_id, sa.func.coalesce(campaigns.c.campaign, "").label("campaign"),
                  sa.literal(InvitationKind.end_of_training.value).label("kind"),
                  Answer.training_body_id, Answer.course_id,
                  sa.cast(sa.func.count(), sa.Integer).label("answers"),
                  sa.cast(sa.func.sum(total), sa.Integer).label("marks_total"),
                  _count_if(Answer.overall >= 4).label("satisfied"),
                  _count_if(Answer.would_recommend.is_(True)).label("recommended"))
        .select_from(sessions).join(Answer, Answer.session_id == p.session_id)
        .outerjoin(campaigns, campaigns.c.session_id == Answer.session_id)
        .where(Answer.excluded_reason.is_(None))
        .group_by(Answer.session_id, campaigns.c.campaign, Answer.training_body_id,
                  Answer.course_id))
    f = FollowUpAnswer
    queries.append(
        sa.select(f.session_id, sa.func.coalesce(campaigns.c.campaign, "").label("campaign"),
                  sa.literal(InvitationKind.follow_up.value).label("kind"),
                  f.training_body_id, f.course_id,
                  sa.cast(sa.func.count(), sa.Integer).label("follow_ups"),
                  _count_if(f.situation == Situation.employed).label("employed"))
        .select_from(sessions).join(f, f.session_id == p.session_id)
        .outerjoin(campaigns, campaigns.c.session_id == f.session_id)
        .group_by(f.session_id, campaigns.c.campaign, f.training_body_id, f.course_id))
    sources = [q.subquery() for q in queries]
    zeros = sa.literal_column("0")
    stacked = sa.union_all(*(
        sa.select(*(q.c[name] for name in _KEY),
                  *(q.c[c] if c in q.c else zeros.label(c) for c in COUNTS))
        for q in sources)).subquery("stacked")
    summed = (sa.select(*(stacked.c[name] for name in _KEY),
                        *(sa.cast(sa.func.sum(stacked.c[c]), sa.Integer).label(c)
                          for c in COUNTS))
              .group_by(*(stacked.c[name] for name in _KEY)).subquery("summed"))
    return (sa.select(*(summed.c[name] for name in _KEY), *(p[name] for name in _PLACE),
                      *(summed.c[c] for c in COUNTS))
            .join_from(summed, sessions, p.session_id == summed.c.session_id))


def _sums(source: Any, key: tuple[str, ...], where: Any = None) -> Any:
    """The rows of ``source`` (those ``where`` keeps) summed per ``key``: what a table of
    ``SUMMED`` holds ("" for no funding scheme: a key is never NULL)."""
    columns = [sa.func.coalesce(source.c[k], "").label(k) if k == "funding_scheme"
               else source.c[k] for k in key]
    query = (sa.select(*columns, *(sa.cast(sa.func.sum(source.c[c]), sa.Integer).label(c)
                                   for c in COUNTS))
             .group_by(*columns))
    return query if where is None else query.where(where)


def _watermarks() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Answer.id), 0))),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(FollowUpAnswer.id), 0))))


def _record(is_full: bool, started: dt.datetime, marks: tuple[int, int], sessions: int) -> None:
    db.session.add(FunnelRun(is_full=is_full, started_dt=started, last_answer_id=marks[0],
                             last_follow_up_id=marks[1], sessions_changed=sessions))


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def rebuild() -> dict[str, int]:
    """Every row again, in one transaction; commit."""
    started, marks = clock.now(), _watermarks()
    if _is_postgresql():
        # No dead rows left behind; only this module writes the tables.
        db.session.execute(sa.text(f"TRUNCATE {_table.name}, "
                                   f"{', '.join(t.name for t in SUMMED)}"))
        db.session.execute(sa.text("SET LOCAL work_mem = '128MB'"))
    else:
        for table in (_table, *SUMMED):
            db.session.execute(sa.delete(table))
    db.session.execute(
        sa.insert(_table).from_select([*_KEY, *_PLACE, *COUNTS], rows_of(
            places().subquery("places")).order_by(
            # A région's rows side by side on disk, and a département's within them:
            # the dashboard reads them together.
            "region_code", "departement", "kind", "end_month")))
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(_table))
    for table, key in SUMMED.items():
        db.session.execute(sa.insert(table).from_select([*key, *COUNTS], _sums(_table, key)))
    if _is_postgresql():
        for table in (_table, *SUMMED):
            db.session.execute(sa.text(f"ANALYZE {table.name}"))
    sessions = db.session.scalar(sa.select(sa.func.count(sa.distinct(_table.c.session_id))))
    _record(True, started, marks, sessions or 0)
    db.session.commit()
    return {"rows": rows, "sessions": sessions or 0}


def touched_sessions(since_answer_id: int, since_follow_up_id: int, since: dt.datetime) -> Any:
    """The sessions whose rows may have changed since a run (a SELECT of their ids)."""
    i = Invitation
    moved = sa.or_(*(column >= since for column in (
        i.status_dt, i.clicked_dt, i.first_sent_dt, i.delivered_dt, i.opened_dt)))
    return sa.union(
        sa.select(Answer.session_id).where(Answer.id > since_answer_id),
        sa.select(Answer.session_id).where(Answer.exclusion_changed_dt >= since),
        sa.select(FollowUpAnswer.session_id).where(FollowUpAnswer.id > since_follow_up_id),
        sa.select(Enrolment.session_id).join(i, i.enrolment_id == Enrolment.id).where(moved),
        sa.select(Enrolment.session_id).where(Enrolment.created_dt >= since))


def _equal(a: Any, b: Any, names: tuple[str, ...]) -> Any:
    """Rows ``a`` and ``b`` (tables) agree on the columns ``names`` (NULL agrees with NULL)."""
    return sa.and_(*(a.c[n].is_not_distinct_from(b.c[n]) if n == "funding_scheme"
                     else a.c[n] == b.c[n] for n in names))


def _replace_rows() -> None:
    """The touched sessions' stored rows that differ from those of ``_fresh`` (or that
    it lacks) deleted, kept negated in ``_gone``; its rows that differ inserted."""
    t = _table.c
    names = (*_KEY, *_PLACE)
    changed = sa.and_(t.session_id.in_(sa.select(_touched.c.session_id)),
                      ~sa.exists().where(_fresh.c.same, _equal(_table, _fresh, _KEY)))
    if _is_postgresql():
        # Read once: deleted and kept in one statement.
        gone = (sa.delete(_table).where(changed)
                .returning(*(t[n] for n in names), *(t[c] for c in COUNTS)).cte("gone"))
        db.session.execute(sa.insert(_gone).from_select([*names, *COUNTS], sa.select(
            *(gone.c[n] for n in names), *(-gone.c[c] for c in COUNTS))))
    else:
        db.session.execute(sa.insert(_gone).from_select([*names, *COUNTS], sa.select(
            *(t[n] for n in names), *(-t[c] for c in COUNTS)).where(changed)))
        db.session.execute(sa.delete(_table).where(changed))
    db.session.execute(sa.insert(_table).from_select(
        [*names, *COUNTS],
        sa.select(*(_fresh.c[c] for c in (*names, *COUNTS))).where(~_fresh.c.same)))


def _apply_changes() -> None:
    """Add to each table of ``SUMMED`` what the replaced rows change (the new ones minus
    ``_gone``), creating the rows it lacks; then drop its rows left with nothing."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if _is_postgresql() else sqlite
    columns = [*_KEY, *_PLACE, *COUNTS]
    changes = sa.union_all(
        sa.select(*(_gone.c[c] for c in columns)),
        sa.select(*(_fresh.c[c] for c in columns)).where(~_fresh.c.same)).subquery()
    for table, key in SUMMED.items():
        summed = _sums(changes, key, sa.true()).having(
            sa.or_(*(sa.func.sum(changes.c[c]) != 0 for c in COUNTS)))
        statement = dialect.insert(table).from_select([*key, *COUNTS], summed)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=list(key),
            set_={c: table.c[c] + statement.excluded[c] for c in COUNTS}))
        # Only a row something was taken from can be left with nothing.
        db.session.execute(sa.delete(table).where(
            table.c[key[0]].in_(sa.select(_gone.c[key[0]])),
            *(table.c[c] == 0 for c in COUNTS)))


def refresh() -> dict[str, int]:
    """The rows of the sessions touched since the previous run, computed again; commit.
    Everything the first time. Gives the rows ``rebuild()`` would."""
    previous = db.session.scalars(sa.select(FunnelRun).order_by(FunnelRun.id.desc())
                                  .limit(1)).first()
    if previous is None:
        return rebuild()
    if _is_postgresql():
        # A few thousand sessions' rows, read through the indexes (see scores.aggregate).
        db.session.execute(sa.text("SET LOCAL random_page_cost = 1.1"))
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
        # Compiling these statements to machine code costs more than it saves.
        db.session.execute(sa.text("SET LOCAL jit = off"))
        # The recounted rows summed in memory, not in batches on disk.
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    started, marks = clock.now(), _watermarks()
    for table in _SCRATCH:
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        table.create(db.session.connection())
    # The sessions in a table, with their places (read once): the database then knows how
    # many there are and reads their rows through the indexes, where an IN list of
    # thousands misleads it.
    db.session.execute(sa.insert(_touched).from_select(
        [c.name for c in places().selected_columns],
        places(touched_sessions(previous.last_answer_id, previous.last_follow_up_id,
                                previous.started_dt - SAFETY_MARGIN))))
    touched = db.session.scalar(sa.select(sa.func.count()).select_from(_touched))
    rows = 0
    if touched:
        if _is_postgresql():
            db.session.execute(sa.text(f"ANALYZE {_touched.name}"))
        fresh = rows_of(_touched).subquery("fresh")
        db.session.execute(sa.insert(_fresh).from_select(
            [*_KEY, *_PLACE, *COUNTS, "same"],
            sa.select(fresh, sa.exists().where(_equal(_table, fresh, (*_KEY, *_PLACE, *COUNTS))))))
        _replace_rows()
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(_fresh)
                                 .where(~_fresh.c.same))
        # The tables of sums change by what the sessions' rows change: minus the old,
        # plus the new (integer sums: exact).
        _apply_changes()
    for table in _SCRATCH:
        db.session.execute(sa.text(f"DROP TABLE {table.name}"))
    _record(False, started, marks, touched)
    db.session.commit()
    return {"rows": rows, "sessions": touched}
