"""Answers → scores, set-based: each source is read once, every number is computed and
written by the database.

Fair score. A plain mean over two answers says little: ANOTEA published a perfect 5
from a single review. Each row's mean ``overall`` is shrunk toward the mean of its
region (the prior mean C) with ``PRIOR_WEIGHT`` = m: the score is computed *as if 5
more answers at the regional mean had been given*,

    fair = (m·C + Σ overall) / (m + n).

A row's region is where most of its answers come from (smallest code on a tie), so
a body teaching in two regions is compared with its main one.

Interval. 90 % interval by the normal approximation: the spread of one answer is the
pooled within-region variance s² = Σ_regions Σ (x − mean_region)² / (N − R), so
sd(fair) = sqrt(s² / (m + n)) and the interval is fair ± 1.645·sd, clipped to [1, 5].
It narrows as answers come; it is None while there are fewer answers than regions + 1.

Priors frozen at the full run. C and s² are those of the last ``recompute_all`` (the
daily job), stored in ``score_priors``: the prior is "the regional mean as of the last
full recomputation (at most a day old)". Were it recomputed by every ``refresh``, one
new answer would move every regional mean, hence every body's fair score, and each
hourly run would rewrite the whole table; frozen, a refresh writes only the rows whose
answers changed, and costs what changed. A day's answers move a regional mean by far
less than the interval's width. A row whose region had no answers at the last full run
has no fair score until the next one.

Rates. Response rate = answers ÷ end-of-training invitations delivered (answered, or
first email sent and neither bounced nor failed), None when none was delivered.
Insertion rate = follow-up answers "employed" ÷ follow-up answers ("training" is not
a job), None without follow-ups.

How. The integer counts and sums of each session are kept in ``score_parts`` (one row
per session, action, course and body): answers and follow-ups per (session, action,
course, body) as they were at answer time, enrolments and their end-of-training
invitation per session with its action, course and body today; each with the session's
département and region. Each scope's rows are one ``INSERT … SELECT`` summing the parts
(a few hundred thousand rows, not millions), which also divides: a mean is an exact
integer sum divided once in double precision (correctly rounded, like Python's
``int / int``), so a refresh and a full run, which sum in different orders, give the
very same floats. Départements and regions sum the parts of each (département, region)
pair, summed once for both. The regional means and the pooled variance come from the
same parts (exact integers, a ``Fraction`` for the variance).

Full run. ``recompute_all`` rebuilds the parts from every answer, follow-up and
enrolment (three passes, in temporary tables so that PostgreSQL may scan in parallel;
the parts' indexes are built after they are filled), then the priors, then every row.

Incremental refresh. ``refresh()`` computes again the parts of the sessions touched
since the previous run (``score_runs``): those with answers or follow-ups with a higher
id than the watermark, answers excluded or included again, enrolments created, and
invitations whose status or first send is dated, or about which a provider's event
arrived, since ``SAFETY_MARGIN`` (an hour) before the previous run. Ids are allocated
before their transaction commits, so a late commit may carry a lower id: an answer moves
its invitation to answered in its own transaction, which finds it (a provider's event
may date what it sets hours before it arrives: its arrival finds it). Only the sessions
whose parts differ are written, and then the rows of every scope those parts were or
are now about, with the stored priors: untouched rows keep their numbers and their
``computed_dt``. ``computed_dt`` and the watermarks of a row are those of the run that
last wrote it. Not seen by ``refresh`` (run ``recompute_all`` after them): sessions
moved to another département, region or action, rows deleted (an erasure deletes none
the scores count), and a transaction committing more than the margin after the time it
wrote.

Rolling window. Only the answers of the last ``REVIEW_ARCHIVE_MONTHS`` months count
(``avis.public.reviews.review_window_start``: the comments shown are those of the same
window): answers and follow-ups by their day, end-of-training invitations delivered by
the day they were answered, else first sent (an invitation with neither counts, as it
did). The enrolled, which decide whether a figure may be public, are all counted: that
rule protects people, not freshness. The window moves every day: ``refresh`` computes
again the sessions with answers, follow-ups or invitations whose day left it since the
previous run (once a day: that look is not indexed for invitations), and
``recompute_all`` applies it to everything.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.mail.models import ProviderEvent
from avis.public.reviews import review_window_start
from avis.scores.models import Score, ScorePart, ScorePrior, ScoreRun, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer, FollowUpAnswer, Situation
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

#: Prior weight m: as if 5 answers at the regional mean were added to every row.
PRIOR_WEIGHT = 5
#: z for a two-sided 90 % interval.
Z_90 = 1.645
#: How far before the previous run ``refresh`` looks for changes that committed late: a
#: transaction (an answer, a moderation decision, a dispatch batch) lasting longer than
#: this, or dating what it writes more than this before its commit, would be missed
#: until the daily full run.
SAFETY_MARGIN = dt.timedelta(hours=1)
#: Keys per ``IN`` list.
CHUNK = 5000
#: PostgreSQL's memory per sort or hash in these statements (the server's default, 4 MB,
#: makes them spill hundreds of thousands of groups to disk).
PG_WORK_MEM = "128MB"

MARKS = range(1, 6)
_ID_SCOPES = frozenset({ScoreScope.body, ScoreScope.course, ScoreScope.action,
                        ScoreScope.session})
_DELIVERED = sa.or_(
    Invitation.status == InvitationStatus.answered,
    sa.and_(Invitation.first_sent_dt.is_not(None),
            Invitation.status.not_in([InvitationStatus.bounced, InvitationStatus.failed])),
)
#: The column of every parts table that holds each scope's key.
_PART_KEYS = {
    ScoreScope.body: "training_body_id",
    ScoreScope.course: "course_id",
    ScoreScope.action: "action_id",
    ScoreScope.session: "session_id",
    ScoreScope.departement: "departement",
    ScoreScope.region: "region_code",
}


def _answers_from() -> Any:
    return (sa.select().select_from(Answer).join(Session, Session.id == Answer.session_id)
            .where(_counted()))


def _counted() -> Any:
    """The answers that count: those of the window, but those moderation excluded
    (fraud, wrong body)."""
    return sa.and_(Answer.excluded_reason.is_(None),
                   Answer.answered_on >= review_window_start())


def _window_instant(start: dt.date) -> dt.datetime:
    """Midnight in France of the window's first day: an invitation answered from then on
    has its answer (dated in France) in the window."""
    return dt.datetime.combine(start, dt.time(), clock.PARIS)


def _invitation_day() -> Any:
    """The instant that places an invitation in the window: the day of its answer, else
    the day it was first sent."""
    return sa.func.coalesce(Invitation.answered_dt, Invitation.first_sent_dt)


def _invitation_in_window() -> Any:
    return sa.or_(_invitation_day().is_(None),
                  _invitation_day() >= _window_instant(review_window_start()))


def _chunks(scope: ScoreScope, keys: list[str] | None) -> Iterator[list[Any] | None]:
    if keys is None:
        yield None
        return
    values: list[Any] = [int(k) for k in keys] if scope in _ID_SCOPES else list(keys)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


# --- the parts: one pass over each source ------------------------------------------------


class _CreateTemporaryTableAs(sa.sql.expression.Executable, sa.sql.expression.ClauseElement):
    """``CREATE TEMPORARY TABLE name AS query``: unlike ``INSERT … SELECT``, PostgreSQL
    may run the query with parallel workers."""

    inherit_cache = False

    def __init__(self, name: str, query: Any) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTemporaryTableAs)
def _compile_create_as(element: _CreateTemporaryTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


_parts: sa.Table = ScorePart.__table__  # type: ignore[assignment]
_PLACE = ("session_id", "action_id", "course_id", "training_body_id", "departement",
          "region_code")
_ANSWER_SUMS = ("n", "satisfied", "recommend", *(f"{d}_{m}" for d in DIMENSIONS for m in MARKS))
#: Every count a scope's row is made of.
_SUMS = (*_ANSWER_SUMS, "follow_ups", "employed", "enrolled", "delivered")
#: Every count of a part.
_PART_SUMS = (*_SUMS, "squares")


def _count_if(condition: Any) -> Any:
    return sa.func.count().filter(condition)


def _integer(count: Any) -> Any:
    """A count as a 4-byte integer: PostgreSQL then sums it in 8-byte integers, not in
    arbitrary precision."""
    return sa.cast(count, sa.Integer)


def _placed(grouped: Any, catalogue: bool, places: sa.Table | None) -> Any:
    """The rows of ``grouped`` (grouped by session, or by what an answer is about), each
    with its session's place; with ``catalogue``, with the session's action, course and
    body today. Those come from ``places`` when given (the touched sessions), else from
    the catalogue."""
    grouped = grouped.subquery()
    if places is None:
        joined = grouped.join(Session, Session.id == grouped.c.session_id)
        if catalogue:
            joined = joined.join(Action, Action.id == Session.action_id)
        today = [Session.action_id, Action.course_id, Action.training_body_id]
        place = [Session.departement, Session.region_code]
    else:
        joined = grouped.join(places, places.c.session_id == grouped.c.session_id)
        today = [places.c[name] for name in _PLACE[1:4]]
        place = [places.c.departement, places.c.region_code]
    about = ([grouped.c.session_id, *today] if catalogue
             else [grouped.c[name] for name in _PLACE[:4]])
    return sa.select(*(c.label(name) for c, name in zip(about + place, _PLACE, strict=True)),
                     *(c for c in grouped.c if c.key not in _PLACE)).select_from(joined)


#: The sessions ``refresh`` computes again, with their place and catalogue today: a
#: table gives PostgreSQL the row counts it needs to read them through the indexes,
#: where an ``IN`` list of thousands does not.
_touched = sa.table("score_touched_sessions", *(sa.column(name) for name in _PLACE))


def _sources(touched: sa.TableClause | None) -> dict[str, Any]:
    """One query per source, grouped: every session's, or those of ``touched``."""

    def of(column: Any) -> Any:
        return sa.true() if touched is None else column.in_(sa.select(touched.c.session_id))

    about = (Answer.session_id, Answer.action_id, Answer.course_id, Answer.training_body_id)
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    answers = _placed(sa.select(
        *about, _integer(sa.func.count()).label("n"),
        _integer(_count_if(Answer.overall >= 4)).label("satisfied"),
        _integer(_count_if(Answer.would_recommend.is_(True))).label("recommend"),
        *(_integer(_count_if(getattr(Answer, d) == m)).label(f"{d}_{m}")
          for d in DIMENSIONS for m in MARKS),
        sa.cast(sa.func.sum(total * total), sa.BigInteger).label("squares"),
    ).where(of(Answer.session_id), _counted()).group_by(*about), False, touched)

    about = (FollowUpAnswer.session_id, FollowUpAnswer.action_id, FollowUpAnswer.course_id,
             FollowUpAnswer.training_body_id)
    follow_ups = _placed(sa.select(
        *about, _integer(sa.func.count()).label("follow_ups"),
        _integer(_count_if(FollowUpAnswer.situation == Situation.employed)).label("employed"),
    ).where(of(FollowUpAnswer.session_id), FollowUpAnswer.answered_on >= review_window_start()
            ).group_by(*about), False, touched)

    # At most one end-of-training invitation per enrolment: the outer join keeps one row
    # per enrolment, so count(*) counts the enrolled.
    invitation = sa.and_(Invitation.enrolment_id == Enrolment.id,
                         Invitation.kind == InvitationKind.end_of_training)
    invitations = _placed(sa.select(
        Enrolment.session_id, _integer(sa.func.count()).label("enrolled"),
        _integer(sa.func.count(Invitation.enrolment_id).filter(
            sa.and_(_DELIVERED, _invitation_in_window()))).label("delivered"),
    ).select_from(Enrolment).outerjoin(Invitation, invitation)
        .where(of(Enrolment.session_id)).group_by(Enrolment.session_id), True, touched)
    return {"answers": answers, "follow_ups": follow_ups, "invitations": invitations}


def _combined(sources: Iterable[Any]) -> Any:
    """One row per (session, action, course, body) from the grouped sources: their counts
    stacked (zeros for the others' counts) and summed."""
    zero = sa.literal_column("0")
    stacked = sa.union_all(*(
        sa.select(*(source.c[name] for name in _PLACE),
                  *(source.c[c] if c in source.c else zero.label(c) for c in _PART_SUMS))
        for source in sources)).subquery("stacked")
    return (sa.select(*(stacked.c[name] for name in _PLACE),
                      *(sa.cast(sa.func.sum(stacked.c[c]), _parts.c[c].type).label(c)
                        for c in _PART_SUMS))
            .group_by(*(stacked.c[name] for name in _PLACE)))


def _insert_parts(query: Any) -> None:
    db.session.execute(sa.insert(_parts).from_select([*_PLACE, *_PART_SUMS], query))


def _build_parts() -> None:
    """Every part, from every answer, follow-up, enrolment and invitation.

    Each source is first grouped into a temporary table: ``CREATE TABLE AS`` may run in
    parallel on PostgreSQL, ``INSERT … SELECT`` may not (the answers alone then take
    twice as long)."""
    postgresql = db.session.connection().dialect.name == "postgresql"
    tables = []
    for name, query in _sources(None).items():
        table = f"score_{name}_parts"
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        db.session.execute(_CreateTemporaryTableAs(table, query))
        tables.append(sa.table(table, *(sa.column(c.key) for c in query.selected_columns)))
    if postgresql:
        # TRUNCATE leaves no dead rows behind; only this module reads the parts, so its
        # lock blocks nobody else. Filling the table then indexing it takes a third of the
        # time of updating its indexes row after row.
        db.session.execute(sa.text("TRUNCATE score_parts"))
        for index in _parts.indexes:
            db.session.execute(sa.schema.DropIndex(index))
        db.session.execute(sa.schema.DropConstraint(_parts.primary_key))
        _insert_parts(_combined(tables))
        db.session.execute(sa.schema.AddConstraint(_parts.primary_key))
        for index in _parts.indexes:
            db.session.execute(sa.schema.CreateIndex(index))
    else:
        db.session.execute(sa.delete(_parts))
        _insert_parts(_combined(tables))
    for table in tables:
        db.session.execute(sa.text(f"DROP TABLE {table.name}"))
    if postgresql:
        # The refresh's statements choose their indexes from these statistics (of the
        # keys only: the counts are never filtered on).
        db.session.execute(sa.text(f"ANALYZE score_parts ({', '.join(_PLACE)})"))


#: The parts of the touched sessions computed again, before they are compared.
_new_parts = sa.table("score_new_parts", *(sa.column(c) for c in (*_PLACE, *_PART_SUMS)))


def _rebuild_parts(query: Any) -> tuple[int, dict[ScoreScope, set[str]]]:
    """The parts of the sessions ``query`` selects again, from their answers,
    follow-ups and enrolments; only those that changed are written. The count of sessions
    that changed, and the keys of every scope their parts were and are now about: the
    rows to write again."""
    postgresql = db.session.connection().dialect.name == "postgresql"
    for table, select in (
            (_touched, sa.select(Session.id.label("session_id"), Session.action_id,
                                 Action.course_id, Action.training_body_id,
                                 Session.departement, Session.region_code)
             .join(Action, Action.id == Session.action_id).where(Session.id.in_(query))),
            (_new_parts, lambda: _combined(q.subquery() for q in _sources(_touched).values()))):
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        db.session.execute(_CreateTemporaryTableAs(
            table.name, select() if callable(select) else select))
        if postgresql and table is _touched:
            db.session.execute(sa.text(f"ANALYZE {table.name}"))
    columns = [*_PLACE, *_PART_SUMS]
    old = (sa.select(*(_parts.c[c] for c in columns))
           .where(_parts.c.session_id.in_(sa.select(_touched.c.session_id))))
    new = sa.select(*(_new_parts.c[c] for c in columns))
    # Most sessions looked at again (everything of the last day) have not changed: their
    # parts, and the rows made of them, need not be written again.
    changed: set[int] = set()
    for difference in (sa.except_(new, old), sa.except_(old, new)):
        rows = difference.subquery()
        changed.update(db.session.scalars(sa.select(rows.c.session_id)))
    touched: dict[ScoreScope, set[str]] = {scope: set() for scope in ScoreScope}
    ordered = sorted(changed)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        keys = [*_PART_KEYS.values()]
        for table in (_parts, _new_parts):
            for row in db.session.execute(sa.select(*(table.c[k] for k in keys)).distinct()
                                          .where(table.c.session_id.in_(chunk))):
                for scope, value in zip(_PART_KEYS, row, strict=True):
                    touched[scope].add(str(value))
        db.session.execute(sa.delete(_parts).where(_parts.c.session_id.in_(chunk)))
        _insert_parts(new.where(_new_parts.c.session_id.in_(chunk)))
    for table in (_touched, _new_parts):
        db.session.execute(sa.text(f"DROP TABLE {table.name}"))
    return len(changed), touched


def _statistics_from(found: list[Any]) -> tuple[dict[str, float], float | None]:
    """Regional means and pooled variance from (region_code, n, st, stt) rows: n answers,
    st the sum of their totals (five marks), stt the sum of the squared totals."""
    scale = len(DIMENSIONS)
    rows = [(r.region_code, int(r.n), int(r.st), int(r.stt)) for r in found]
    means = {region: st / (scale * n) for region, n, st, _stt in rows}
    freedom = sum(n for _r, n, _st, _stt in rows) - len(rows)
    if freedom <= 0:
        return means, None
    squares = sum(Fraction(stt) - Fraction(st ** 2, n) for _r, n, st, stt in rows)
    return means, float(squares / (scale * scale * freedom))


def _add(terms: Iterable[Any]) -> Any:
    return functools.reduce(operator.add, terms)


def _mark_sum(counts: Any, dimension: str) -> Any:
    """Σ marks of ``dimension`` from its counts per mark."""
    return _add(m * counts[f"{dimension}_{m}"] if m > 1 else counts[f"{dimension}_{m}"]
                for m in MARKS)


def _parts_statistics() -> list[Any]:
    """(region_code, n, st, stt) of every region with answers, from the parts."""
    p = _parts.c
    st = _add(sa.func.sum(_mark_sum(p, d)) for d in DIMENSIONS)
    return db.session.execute(
        sa.select(p.region_code, sa.func.sum(p.n).label("n"), st.label("st"),
                  sa.func.sum(p.squares).label("stt"))
        .group_by(p.region_code).having(sa.func.sum(p.n) > 0).order_by(p.region_code)).all()


def regional_statistics() -> tuple[dict[str, float], float | None]:
    """The mean ``overall`` of each region, and the pooled within-region variance.

    ``overall`` is the total of the five marks over 5: integer sums keep it exact."""
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    return _statistics_from(db.session.execute(
        _answers_from().add_columns(Session.region_code, sa.func.count().label("n"),
                                    sa.func.sum(total).label("st"),
                                    sa.func.sum(total * total).label("stt"))
        .group_by(Session.region_code).order_by(Session.region_code)).all())


# --- the rows of a scope ---------------------------------------------------------------


def _double(value: Any) -> Any:
    return sa.cast(value, sa.Float)


def _ratio(count: Any, total: Any) -> Any:
    """count / total in double precision, NULL when total is 0."""
    return sa.case((total > 0, _double(count) / _double(total)), else_=sa.null())


def _distribution(counts: dict[int, Any]) -> Any:
    """{"1": n1, …, "5": n5} as ``json.dumps`` writes it."""
    text: Any = None
    for mark, count in counts.items():
        piece = sa.literal_column(f"""'{"{" if text is None else ", "}"{mark}": '""", sa.String)
        text = piece if text is None else text + piece
        text = text + sa.type_coerce(count, sa.String)
    text = text + sa.literal_column("'}'", sa.String)
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(text, sa.JSON)
    return sa.type_coerce(text, sa.JSON)


@dataclass(frozen=True)
class _Prior:
    """The regional statistics, as SQL: the prior of a region and the fair numbers."""

    means: dict[str, float]
    variance: float | None

    def mean(self, region: Any) -> Any:
        if not self.means:
            return sa.null()
        return sa.case({code: sa.literal(value, sa.Float) for code, value in self.means.items()},
                       value=region, else_=sa.null())

    def fair(self, n: Any, mean: Any, region: Any) -> dict[str, Any]:
        """``fair_score``, its interval and ``prior_mean``, computed as ``fair_score()``
        does, in the same order, in double precision; NULL when ``region`` has no mean."""
        prior = self.mean(region)
        weight = _double(PRIOR_WEIGHT + n)
        score = (sa.literal(float(PRIOR_WEIGHT), sa.Float) * prior + _double(n) * mean) / weight
        if self.variance is None:
            low = high = sa.null()
        else:
            half = sa.literal(Z_90, sa.Float) * sa.func.sqrt(
                sa.literal(self.variance, sa.Float) / weight)
            low = sa.case((score - half < 1.0, sa.literal(1.0, sa.Float)), else_=score - half)
            high = sa.case((score + half > 5.0, sa.literal(5.0, sa.Float)), else_=score + half)
        return {"prior_mean": prior, "fair_score": score, "fair_score_low": low,
                "fair_score_high": high}


def _scope_rows(scope: ScoreScope, chunk: list[Any] | None, prior: _Prior | None,
                parts_table: sa.TableClause = _parts) -> Any:
    """SELECT of the rows of ``scope`` (restricted to the keys in ``chunk``) from the
    parts, with the fair numbers when ``prior`` is given: the column names of ``Score``.

    One aggregation of the parts per key; for the scopes whose keys span regions, the
    parts are first summed per key and region (read once: the prior's region is ranked
    from those sums too)."""
    config = current_app.config
    name = _PART_KEYS[scope]
    parts = parts_table.c
    one_region = scope in (ScoreScope.session, ScoreScope.region)
    every = sa.select(parts[name].label("key"), parts.region_code,
                      *(parts[c] if one_region else sa.func.sum(parts[c]).label(c)
                        for c in _SUMS))
    if chunk is not None:
        every = every.where(parts[name].in_(chunk))
    # Referenced twice, the CTE is computed once (PostgreSQL does not inline it).
    every = (every.subquery("every") if one_region
             else every.group_by(parts[name], parts.region_code).cte("every"))
    summed = {c: sa.func.sum(every.c[c]) for c in _SUMS}
    # overall = (sum of the five marks) / 5, so its mean is the total over 5·n. Computed
    # in the aggregation, whose expressions are evaluated once per key (the fair numbers
    # use it several times).
    total = _add(_mark_sum(summed, d) for d in DIMENSIONS)
    sums = [*(value.label(c) for c, value in summed.items()),
            _ratio(total, sa.literal(len(DIMENSIONS)) * summed["n"]).label("mean_overall")]
    present = sa.or_(sa.func.sum(every.c.n) > 0, sa.func.sum(every.c.delivered) > 0,
                     sa.func.sum(every.c.follow_ups) > 0)
    if one_region:
        # One region per key: the session's, or the key itself.
        main_region = sa.case((every.c.n > 0, every.c.region_code), else_=sa.null())
        t = sa.select(every.c.key, *sums, sa.func.max(main_region).label("prior_region_code")
                      ).group_by(every.c.key).having(present).subquery("t")
    else:
        # The prior's region: where most answers come from, smallest code on a tie.
        ranked = sa.select(every.c.key, every.c.region_code, sa.func.row_number().over(
            partition_by=every.c.key, order_by=(every.c.n.desc(), every.c.region_code)
        ).label("rank")).where(every.c.n > 0).subquery("ranked")
        per_key = sa.select(every.c.key, *sums).group_by(every.c.key).having(present
                                                                             ).subquery("per_key")
        t = (sa.select(per_key, ranked.c.region_code.label("prior_region_code"))
             .select_from(per_key.outerjoin(ranked, sa.and_(ranked.c.key == per_key.c.key,
                                                            ranked.c.rank == 1)))
             .subquery("t"))

    n = t.c.n
    mean_overall = t.c.mean_overall
    columns: dict[str, Any] = {
        "scope": sa.literal(scope.value, sa.String),
        "key": t.c.key if scope not in _ID_SCOPES else sa.cast(t.c.key, sa.String),
        "answers_count": n, "invitations_delivered": t.c.delivered,
        "follow_ups_count": t.c.follow_ups,
        # No published figure rests on fewer trainees than a small session: a body or
        # an action whose only session is small would show that session's answers.
        "is_public": (t.c.enrolled >= config["MIN_SESSION_SIZE"]
                      if scope in _ID_SCOPES else sa.true()),
        "prior_region_code": t.c.prior_region_code,
        **{f"mean_{d}": _ratio(_mark_sum(t.c, d), n) for d in DIMENSIONS},
        "mean_overall": mean_overall,
        **{f"distribution_{d}": sa.case(
            (n > 0, _distribution({m: t.c[f"{d}_{m}"] for m in MARKS})), else_=sa.null())
           for d in DIMENSIONS},
        "satisfied_share": _ratio(t.c.satisfied, n),
        "recommendation_rate": _ratio(t.c.recommend, n),
        "insertion_rate": _ratio(t.c.employed, t.c.follow_ups),
        "response_rate": _ratio(n, t.c.delivered),
        "has_score": n >= config["MIN_REVIEWS_FOR_SCORE"],
    }
    if prior is not None:
        columns.update(prior.fair(n, mean_overall, t.c.prior_region_code))
    return sa.select(*(value.label(label) for label, value in columns.items()))


def compute_rows(scope: ScoreScope, keys: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every number of ``scope`` except the fair score, per key (all keys, or ``keys``);
    the parts are rebuilt first (not committed)."""
    _prepare()
    _build_parts()
    rows: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(scope, keys):
        for found in db.session.execute(_scope_rows(scope, chunk, None)).mappings():
            row = dict(found)
            row["scope"] = scope
            rows[row["key"]] = row
    return rows


def fair_score(n: int, mean: float, prior: float,
               variance: float | None) -> tuple[float, float | None, float | None]:
    """Bayesian average of ``n`` answers of mean ``mean`` and its 90 % interval (the
    statements compute the same, in the same order, in double precision)."""
    weight = PRIOR_WEIGHT + n
    score = (PRIOR_WEIGHT * prior + n * mean) / weight
    if variance is None:
        return score, None, None
    half = Z_90 * math.sqrt(variance / weight)
    return score, max(1.0, score - half), min(5.0, score + half)


# --- writing ---------------------------------------------------------------------------


def _prepare() -> None:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite has sqrt() only when built with its math functions: use Python's.
        connection.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "sqrt", 1, math.sqrt, deterministic=True)
    else:
        # Sorts and hashes of a few hundred thousand groups stay in memory; compiling
        # these statements to machine code costs more than it saves.
        db.session.execute(sa.text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        db.session.execute(sa.text("SET LOCAL jit = off"))


def _insert(scope: ScoreScope, chunk: list[Any] | None, prior: _Prior,
            stamps: dict[str, Any]) -> int:
    """Insert the rows of ``scope`` (of the keys in ``chunk``); their number."""
    # A département's or region's rows sum tens of thousands of parts: the parts of each
    # place are summed once for both (see ``_place_parts``).
    source = _place_parts if scope in _PLACE_SCOPES else _parts
    rows = _scope_rows(scope, chunk, prior, source).add_columns(
        *(sa.literal(value, Score.__table__.c[name].type).label(name)
          for name, value in stamps.items()))
    names = [c.name for c in rows.selected_columns]
    inserted = db.session.execute(sa.insert(Score).from_select(names, rows)
                                  .execution_options(preserve_rowcount=True))
    if inserted.rowcount < 0:
        # Python's sqlite3 counts no rows for a statement that starts with WITH.
        return db.session.scalar(sa.text("SELECT changes()"))
    return inserted.rowcount


_PLACE_SCOPES = (ScoreScope.departement, ScoreScope.region)
#: The parts summed per (département, region), for the rows of both scopes.
_place_parts = sa.table("score_place_parts", sa.column("departement"),
                        sa.column("region_code"), *(sa.column(c) for c in _SUMS))


def _sum_places() -> None:
    """Fill ``_place_parts`` (a temporary table) from every part."""
    db.session.execute(sa.text(f"DROP TABLE IF EXISTS {_place_parts.name}"))
    db.session.execute(_CreateTemporaryTableAs(_place_parts.name, sa.select(
        _parts.c.departement, _parts.c.region_code,
        *(sa.func.sum(_parts.c[c]).label(c) for c in _SUMS))
        .group_by(_parts.c.departement, _parts.c.region_code)))


def _stamps(now: dt.datetime) -> dict[str, Any]:
    last_answer_id, last_follow_up_id = _watermarks()
    return {"computed_dt": now, "last_answer_id": last_answer_id,
            "last_follow_up_id": last_follow_up_id}


def _record_run(is_full: bool, stamps: dict[str, Any], sessions_changed: int) -> None:
    db.session.add(ScoreRun(is_full=is_full, started_dt=stamps["computed_dt"],
                            last_answer_id=stamps["last_answer_id"],
                            last_follow_up_id=stamps["last_follow_up_id"],
                            sessions_changed=sessions_changed))


def _watermarks() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Answer.id), 0))),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(FollowUpAnswer.id), 0))))


# --- the priors --------------------------------------------------------------------------


def _store_priors(now: dt.datetime) -> _Prior:
    """The regional means and the pooled variance from the parts, stored and returned."""
    found = _parts_statistics()
    means, variance = _statistics_from(found)
    db.session.execute(sa.delete(ScorePrior))
    counts = {r.region_code: int(r.n) for r in found}
    db.session.execute(sa.insert(ScorePrior), [
        *({"region_code": region, "answers_count": counts[region], "mean_overall": mean,
           "pooled_variance": None, "computed_dt": now} for region, mean in means.items()),
        {"region_code": None, "answers_count": sum(counts.values()),
         "mean_overall": (sum(int(r.st) for r in found) / (len(DIMENSIONS) * sum(counts.values()))
                          if counts else None),
         "pooled_variance": variance, "computed_dt": now}])
    return _Prior(means, variance)


def stored_priors() -> tuple[dict[str, float], float | None] | None:
    """The regional means and the pooled variance stored by the last ``recompute_all``
    (None before the first one)."""
    rows = db.session.execute(sa.select(ScorePrior.region_code, ScorePrior.mean_overall,
                                        ScorePrior.pooled_variance)).all()
    country = [r for r in rows if r.region_code is None]
    if not country:
        return None
    return ({r.region_code: r.mean_overall for r in rows if r.region_code is not None},
            country[0].pooled_variance)


# --- the runs ----------------------------------------------------------------------------


def recompute_all(*, recompute_priors: bool = True) -> dict[str, int]:
    """Rebuild the parts, the priors and the whole table in one transaction, and commit.

    ``recompute_priors=False`` keeps the stored priors (when there are some): the rows are
    then those ``refresh`` would give, which the tests compare it with."""
    _prepare()
    now = clock.now()
    stamps = _stamps(now)
    _build_parts()
    stored = None if recompute_priors else stored_priors()
    prior = _store_priors(now) if stored is None else _Prior(*stored)
    db.session.execute(sa.delete(Score).execution_options(synchronize_session=False))
    _sum_places()
    counts = {scope.value: _insert(scope, None, prior, stamps) for scope in ScoreScope}
    db.session.execute(sa.text(f"DROP TABLE {_place_parts.name}"))
    if db.session.connection().dialect.name == "postgresql":
        # The refresh deletes a few thousand rows by key: without statistics of the new
        # rows (autovacuum may not have run, or be off), PostgreSQL reads every row of
        # the scope instead of probing the unique index.
        db.session.execute(sa.text("ANALYZE scores (scope, key)"))
    _record_run(True, stamps, db.session.scalar(
        sa.select(sa.func.count(sa.distinct(_parts.c.session_id)))))
    db.session.commit()
    return counts


def touched_sessions(since_answer_id: int, since_follow_up_id: int,
                     since: dt.datetime) -> set[int]:
    """The sessions whose parts may have changed since the previous run."""
    return set(db.session.scalars(_touched_query(since_answer_id, since_follow_up_id, since)))


def _touched_query(since_answer_id: int, since_follow_up_id: int, since: dt.datetime,
                   *more: Any) -> Any:
    i = Invitation
    invited = sa.select(Enrolment.session_id).join(i, i.enrolment_id == Enrolment.id)
    return sa.union(
        *more,
        sa.select(Answer.session_id).where(Answer.id > since_answer_id),
        sa.select(Answer.session_id).where(Answer.exclusion_changed_dt >= since),
        sa.select(FollowUpAnswer.session_id).where(FollowUpAnswer.id > since_follow_up_id),
        # An answer (or follow-up) moves its invitation to answered in its own
        # transaction: one that committed late, with an id below the watermark, is found
        # by that move. Both kinds, then: a follow-up's invitation is the trace of its
        # answer.
        invited.where(i.status_dt >= since),
        # A first send changes what was delivered even when a provider's event had
        # already moved the status.
        invited.where(i.first_sent_dt >= since),
        # A provider's event dates the send and the status it sets at the time it
        # carries, possibly hours before it arrives: found by its arrival.
        invited.join(ProviderEvent, ProviderEvent.invitation_id == i.id)
        .where(ProviderEvent.received_dt >= since),
        sa.select(Enrolment.session_id).where(Enrolment.created_dt >= since))


def _left_window(was: dt.date, now: dt.date) -> tuple[Any, ...]:
    """Selects of the sessions with answers, follow-ups or invitations whose day left the
    window between its first day ``was`` and its first day ``now``."""
    return (
        sa.select(Answer.session_id).where(Answer.answered_on >= was, Answer.answered_on < now),
        sa.select(FollowUpAnswer.session_id).where(FollowUpAnswer.answered_on >= was,
                                                   FollowUpAnswer.answered_on < now),
        sa.select(Enrolment.session_id).join(Invitation, Invitation.enrolment_id == Enrolment.id)
        .where(Invitation.kind == InvitationKind.end_of_training,
               _invitation_day() >= _window_instant(was),
               _invitation_day() < _window_instant(now)))


def refresh() -> dict[str, int]:
    """Recompute the parts of the sessions touched since the previous run, then the rows
    of every scope the parts that changed are about, with the stored priors; commit.
    Everything the first time (or before any priors were stored). Gives the same numbers
    as ``recompute_all(recompute_priors=False)``."""
    previous = db.session.scalars(sa.select(ScoreRun).order_by(ScoreRun.id.desc())
                                  .limit(1)).first()
    stored = stored_priors()
    if previous is None or stored is None:
        return recompute_all()
    _prepare()
    if db.session.connection().dialect.name == "postgresql":
        # The statements below read a few thousand sessions' rows through the indexes:
        # with the default cost of a random read (meant for spinning disks), and parallel
        # workers to share a scan, PostgreSQL prefers reading the 2 million enrolments or
        # invitations whole.
        db.session.execute(sa.text("SET LOCAL random_page_cost = 1.1"))
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    prior = _Prior(*stored)
    stamps = _stamps(clock.now())
    since = previous.started_dt - SAFETY_MARGIN
    # The window of the previous run (not a day before it: the look at invitations is
    # not indexed, and runs only when the day changed).
    window_was = review_window_start(previous.started_dt.astimezone(clock.PARIS).date())
    window_is = review_window_start()
    changed, touched = _rebuild_parts(_touched_query(
        previous.last_answer_id, previous.last_follow_up_id, since,
        *(_left_window(window_was, window_is) if window_was < window_is else ())))
    counts: dict[str, int] = {}
    if touched[ScoreScope.departement] or touched[ScoreScope.region]:
        _sum_places()
    for scope, keys in touched.items():
        if not keys:
            continue
        counts[scope.value] = 0
        for chunk in _chunks(scope, sorted(keys)):
            assert chunk is not None
            db.session.execute(sa.delete(Score).where(
                Score.scope == scope, Score.key.in_([str(k) for k in chunk]))
                .execution_options(synchronize_session=False))
            counts[scope.value] += _insert(scope, chunk, prior, stamps)
    db.session.execute(sa.text(f"DROP TABLE IF EXISTS {_place_parts.name}"))
    _record_run(False, stamps, changed)
    db.session.commit()
    return counts
