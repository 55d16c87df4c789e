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

Month rows. ``monitoring_month_counts`` holds the same counts summed per région,
campaign, month, funders, funding scheme and kind (a few thousand rows for the country):
what the dashboard reads unless a body, a course or a département is asked for. A
rebuild sums it again; a refresh adds to it what the recounted sessions' rows changed
(minus the old rows, plus the new: integer sums, so exactly what a rebuild gives).

Runs. ``rebuild()`` (daily) computes every row again. ``refresh()`` (hourly) computes
again the rows of the sessions touched since the previous run (``monitoring_runs``):
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
from avis.db import db
from avis.monitoring.models.funnel import FunnelCount, FunnelMonthCount, FunnelRun
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
#: The sessions a refresh counts again (a temporary table).
_touched = sa.table("monitoring_touched_sessions", sa.column("session_id", sa.Integer))
_months: sa.Table = FunnelMonthCount.__table__  # type: ignore[assignment]
#: The key of a ``monitoring_month_counts`` row.
MONTH_KEY = ("region_code", "campaign", "end_month", "funders", "funding_scheme", "kind")


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


def _sources(sessions: Any | None) -> list[Any]:
    """One grouped query per source, with the columns ``_KEY`` and some of ``COUNTS``:
    every session's, or those whose id ``sessions`` (a SELECT of ids) gives."""

    def of(column: Any) -> Any:
        return sa.true() if sessions is None else column.in_(sessions)

    conditions = step_conditions()
    zero = sa.literal(0, sa.Integer)
    body = sa.select(Session.id.label("session_id"), Action.course_id,
                     Action.training_body_id).join(Action, Action.id == Session.action_id)
    if sessions is not None:
        body = body.where(Session.id.in_(sessions))
    today = body.subquery("today")
    queries = []
    for kind in InvitationKind:
        # End of training: every enrolment, invited or not (at most one invitation of a
        # kind per enrolment: one row each). Follow-up: the invited ones.
        invitation = sa.and_(Invitation.enrolment_id == Enrolment.id, Invitation.kind == kind)
        enrolments = sa.join(Enrolment, today, today.c.session_id == Enrolment.session_id)
        if kind == InvitationKind.end_of_training:
            joined = enrolments.outerjoin(Invitation, invitation)
            enrolled = sa.cast(sa.func.count(), sa.Integer)
        else:
            joined = enrolments.join(Invitation, invitation)
            enrolled = zero
        queries.append(sa.select().select_from(joined).add_columns(
            Enrolment.session_id, Enrolment.campaign, sa.literal(kind.value).label("kind"),
            today.c.training_body_id, today.c.course_id, enrolled.label("enrolled"),
            *(_count_if(condition).label(name) for name, condition in conditions.items()))
            .group_by(Enrolment.session_id, Enrolment.campaign, today.c.training_body_id,
                      today.c.course_id))
    # The campaign answers count with: the session's first.
    campaigns = (sa.select(Enrolment.session_id, sa.func.min(Enrolment.campaign).label("campaign"))
                 .where(of(Enrolment.session_id)).group_by(Enrolment.session_id)
                 .subquery("campaigns"))
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    queries.append(
        sa.select(Answer.session_id, sa.func.coalesce(campaigns.c.campaign, "").label("campaign"),
                  sa.literal(InvitationKind.end_of_training.value).label("kind"),
                  Answer.training_body_id, Answer.course_id,
                  sa.cast(sa.func.count(), sa.Integer).label("answers"),
                  sa.cast(sa.func.sum(total), sa.Integer).label("marks_total"),
                  _count_if(Answer.overall >= 4).label("satisfied"),
                  _count_if(Answer.would_recommend.is_(True)).label("recommended"))
        .outerjoin(campaigns, campaigns.c.session_id == Answer.session_id)
        .where(of(Answer.session_id), Answer.excluded_reason.is_(None))
        .group_by(Answer.session_id, campaigns.c.campaign, Answer.training_body_id,
                  Answer.course_id))
    f = FollowUpAnswer
    queries.append(
        sa.select(f.session_id, sa.func.coalesce(campaigns.c.campaign, "").label("campaign"),
                  sa.literal(InvitationKind.follow_up.value).label("kind"),
                  f.training_body_id, f.course_id,
                  sa.cast(sa.func.count(), sa.Integer).label("follow_ups"),
                  _count_if(f.situation == Situation.employed).label("employed"))
        .outerjoin(campaigns, campaigns.c.session_id == f.session_id)
        .where(of(f.session_id))
        .group_by(f.session_id, campaigns.c.campaign, f.training_body_id, f.course_id))
    return queries


def _rows(sessions: Any | None) -> Any:
    """The rows of ``monitoring_counts`` (every session's, or those of ``sessions``): the
    sources stacked, summed per key, and placed with their session."""
    zero = sa.literal_column("0")
    sources = [q.subquery() for q in _sources(sessions)]
    stacked = sa.union_all(*(
        sa.select(*(q.c[name] for name in _KEY),
                  *(q.c[c] if c in q.c else zero.label(c) for c in COUNTS))
        for q in sources)).subquery("stacked")
    summed = (sa.select(*(stacked.c[name] for name in _KEY),
                        *(sa.cast(sa.func.sum(stacked.c[c]), sa.Integer).label(c)
                          for c in COUNTS))
              .group_by(*(stacked.c[name] for name in _KEY)).subquery("summed"))
    return (sa.select(*(summed.c[name] for name in _KEY), Session.region_code,
                      Session.departement, month_of(Session.end_date).label("end_month"),
                      Session.funders, Session.funding_scheme,
                      *(summed.c[c] for c in COUNTS))
            .join(Session, Session.id == summed.c.session_id))


def _insert(sessions: Any) -> Any:
    """Insert the rows of the sessions ``sessions`` selects; the month keys and counts
    of the rows inserted."""
    rows = _rows(sessions)
    return db.session.execute(
        sa.insert(_table).from_select([*_KEY, *_PLACE, *COUNTS], rows)
        .returning(*_month_columns(_table)))


def _month_columns(table: Any) -> list[Any]:
    t = table.c
    return [*(t[k] for k in MONTH_KEY if k != "funding_scheme"),
            sa.func.coalesce(t.funding_scheme, "").label("funding_scheme"),
            *(t[c] for c in COUNTS)]


def _month_sums(where: Any) -> Any:
    """``monitoring_counts`` rows (those ``where`` keeps) summed per month row's key."""
    t = _table.c
    keys = [t.region_code, t.campaign, t.end_month, t.funders,
            sa.func.coalesce(t.funding_scheme, "").label("funding_scheme"), t.kind]
    return (sa.select(*keys, *(sa.cast(sa.func.sum(t[c]), sa.Integer).label(c) for c in COUNTS))
            .where(where).group_by(t.region_code, t.campaign, t.end_month, t.funders,
                                   t.funding_scheme, t.kind))


def _month_key(row: Any) -> tuple[Any, ...]:
    return tuple(tuple(row[k]) if k == "funders" else row[k] for k in MONTH_KEY)


def _add_to_months(deltas: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    """Add each row of ``deltas`` (a key's count changes) to ``monitoring_month_counts``,
    creating the rows it lacks; then drop the rows left with nothing."""
    changes = [row for row in deltas.values() if any(row[c] for c in COUNTS)]
    if changes:
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(_months)
        statement = statement.on_conflict_do_update(
            index_elements=list(MONTH_KEY),
            set_={c: _months.c[c] + statement.excluded[c] for c in COUNTS})
        db.session.execute(statement, changes)
    db.session.execute(sa.delete(_months).where(*(_months.c[c] == 0 for c in COUNTS)))


def _collect(deltas: dict[tuple[Any, ...], dict[str, Any]], rows: Any, sign: int) -> None:
    for row in rows:
        key = _month_key(row)
        found = deltas.setdefault(key, {**{k: row[k] for k in MONTH_KEY},
                                        **dict.fromkeys(COUNTS, 0)})
        for c in COUNTS:
            found[c] += sign * int(row[c])


def _watermarks() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Answer.id), 0))),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(FollowUpAnswer.id), 0))))


def _record(is_full: bool, started: dt.datetime, marks: tuple[int, int], sessions: int) -> None:
    db.session.add(FunnelRun(is_full=is_full, started_dt=started, last_answer_id=marks[0],
                             last_follow_up_id=marks[1], sessions_changed=sessions))


def rebuild() -> dict[str, int]:
    """Every row again, in one transaction; commit."""
    started, marks = clock.now(), _watermarks()
    if db.session.get_bind().dialect.name == "postgresql":
        # No dead rows left behind; only this module writes the table.
        db.session.execute(sa.text(f"TRUNCATE {_table.name}"))
        db.session.execute(sa.text("SET LOCAL work_mem = '128MB'"))
    else:
        db.session.execute(sa.delete(_table))
    db.session.execute(sa.delete(_months))
    db.session.execute(
        sa.insert(_table).from_select([*_KEY, *_PLACE, *COUNTS], _rows(None).order_by(
            # A région's rows of a kind side by side on disk: the dashboard reads them
            # together.
            Session.region_code, "kind", "end_month")))
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(_table))
    db.session.execute(sa.insert(_months).from_select([*MONTH_KEY, *COUNTS],
                                                      _month_sums(sa.true())))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"ANALYZE {_table.name}"))
        db.session.execute(sa.text(f"ANALYZE {_months.name}"))
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

def refresh() -> dict[str, int]:
    """The rows of the sessions touched since the previous run, computed again; commit.
    Everything the first time. Gives the rows ``rebuild()`` would."""
    previous = db.session.scalars(sa.select(FunnelRun).order_by(FunnelRun.id.desc())
                                  .limit(1)).first()
    if previous is None:
        return rebuild()
    if db.session.get_bind().dialect.name == "postgresql":
        # A few thousand sessions' rows, read through the indexes (see scores.aggregate).
        db.session.execute(sa.text("SET LOCAL random_page_cost = 1.1"))
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
        # Compiling these statements to machine code costs more than it saves.
        db.session.execute(sa.text("SET LOCAL jit = off"))
    started, marks = clock.now(), _watermarks()
    touched = sorted(set(db.session.scalars(touched_sessions(
        previous.last_answer_id, previous.last_follow_up_id,
        previous.started_dt - SAFETY_MARGIN))))
    rows = 0
    if touched:
        # The sessions in a table: the database then knows how many there are and reads
        # their rows through the indexes, where an IN list of thousands misleads it.
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {_touched.name}"))
        db.session.execute(sa.text(f"CREATE TEMPORARY TABLE {_touched.name} "
                                   "(session_id INTEGER PRIMARY KEY)"))
        db.session.execute(sa.insert(_touched), [{"session_id": i} for i in touched])
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.text(f"ANALYZE {_touched.name}"))
        of_touched = sa.select(_touched.c.session_id)
        # The month rows change by what the sessions' rows change: minus the old, plus
        # the new (integer sums: exact). Both read as they are deleted and inserted.
        deltas: dict[tuple[Any, ...], dict[str, Any]] = {}
        _collect(deltas, db.session.execute(
            sa.delete(_table).where(_table.c.session_id.in_(of_touched))
            .returning(*_month_columns(_table))).mappings(), -1)
        inserted = _insert(of_touched).mappings().all()
        rows = len(inserted)
        _collect(deltas, inserted, 1)
        _add_to_months(deltas)
        db.session.execute(sa.text(f"DROP TABLE {_touched.name}"))
    _record(False, started, marks, len(touched))
    db.session.commit()
    return {"rows": rows, "sessions": len(touched)}
