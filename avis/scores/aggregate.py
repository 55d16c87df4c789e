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

Rates. Response rate = answers ÷ end-of-training invitations delivered (answered, or
first email sent and neither bounced nor failed), None when none was delivered.
Insertion rate = follow-up answers "employed" ÷ follow-up answers ("training" is not
a job), None without follow-ups.

How. Three passes, one per source, fill temporary tables of integer counts and sums
("parts"): answers and follow-ups per (session, action, course, body) as they were at
answer time, with the session's département and region today; enrolments and their
end-of-training invitation per session, with its action, course and body today. Each
scope's rows are then one ``INSERT … SELECT`` summing the parts (a few hundred thousand
rows, not millions), which also divides: a mean is an exact integer sum divided once in
double precision (correctly rounded, like Python's ``int / int``), so a refresh and a
full run, which sum in different orders, give the very same floats. The regional means
and the pooled variance come from the same parts (exact integers, a ``Fraction`` for the
variance) and enter the statements as parameters.

Incremental refresh. ``refresh()`` rebuilds, with the very same statements, only the
rows of the keys touched since the previous run: answers and follow-ups with a higher
id than the watermark, and — because ids are allocated before their transaction
commits, so a late commit may carry a lower id — any answer dated since the day before
the previous run; invitations and enrolments changed since a day before the previous
run. A new answer touches its département and region, whose rows need every answer:
the passes read everything, only the writing is incremental. The regional means and the
pooled variance move with every answer, so every other row's prior, fair score and
interval are then updated in one statement (arithmetic on the stored means; rows whose
numbers do not change are not written). ``computed_dt`` and the watermarks are those of
the run that last wrote the row. Not seen by ``refresh`` (run ``recompute_all`` after
them): sessions moved to another département or region, enrolments or invitations
deleted by an erasure.
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
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer, FollowUpAnswer, Situation
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

#: Prior weight m: as if 5 answers at the regional mean were added to every row.
PRIOR_WEIGHT = 5
#: z for a two-sided 90 % interval.
Z_90 = 1.645
#: How far before the previous run ``refresh`` looks for changes that committed late.
SAFETY_MARGIN = dt.timedelta(days=1)
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


def _about_keys(table: type[Answer] | type[FollowUpAnswer]) -> dict[ScoreScope, Any]:
    """The key of each scope for answers (joined with their session)."""
    return {
        ScoreScope.body: table.training_body_id,
        ScoreScope.course: table.course_id,
        ScoreScope.action: table.action_id,
        ScoreScope.session: table.session_id,
        ScoreScope.departement: Session.departement,
        ScoreScope.region: Session.region_code,
    }


#: The key of each scope for invitations (joined with enrolment, session and action):
#: the catalogue as it is today.
_INVITATION_KEYS: dict[ScoreScope, Any] = {
    ScoreScope.body: Action.training_body_id,
    ScoreScope.course: Action.course_id,
    ScoreScope.action: Session.action_id,
    ScoreScope.session: Session.id,
    ScoreScope.departement: Session.departement,
    ScoreScope.region: Session.region_code,
}


def _answers_from() -> Any:
    return sa.select().select_from(Answer).join(Session, Session.id == Answer.session_id)


def _follow_ups_from() -> Any:
    return (sa.select().select_from(FollowUpAnswer)
            .join(Session, Session.id == FollowUpAnswer.session_id))


def _invitations_from() -> Any:
    return (sa.select().select_from(Invitation)
            .join(Enrolment, Enrolment.id == Invitation.enrolment_id)
            .join(Session, Session.id == Enrolment.session_id)
            .join(Action, Action.id == Session.action_id)
            .where(Invitation.kind == InvitationKind.end_of_training))


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


_PLACE = ("session_id", "action_id", "course_id", "training_body_id", "departement",
          "region_code")
_ANSWER_SUMS = ("n", "satisfied", "recommend", *(f"{d}_{m}" for d in DIMENSIONS for m in MARKS))
_FOLLOW_UP_SUMS = ("follow_ups", "employed")
_INVITATION_SUMS = ("enrolled", "delivered")
#: Every count a scope's row is made of.
_SUMS = (*_ANSWER_SUMS, *_FOLLOW_UP_SUMS, *_INVITATION_SUMS)


def _parts_table(name: str, *sums: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), sa.Column("session_id", sa.Integer),
                    sa.Column("action_id", sa.Integer), sa.Column("course_id", sa.Integer),
                    sa.Column("training_body_id", sa.Integer),
                    sa.Column("departement", sa.String(3)), sa.Column("region_code", sa.String(2)),
                    *(sa.Column(c, sa.Integer) for c in sums))


#: Answers per (session, action, course, body) at answer time: how many, how many
#: satisfied and recommending, how many gave each mark to each dimension (the sums of
#: the marks follow); ``squares`` is Σ (sum of the five marks)², for the pooled variance.
_answer_parts = _parts_table("score_answer_parts", *_ANSWER_SUMS, "squares")
#: Follow-up answers per (session, action, course, body) at answer time.
_follow_up_parts = _parts_table("score_follow_up_parts", *_FOLLOW_UP_SUMS)
#: Enrolments and delivered end-of-training invitations per session, with the session's
#: action, course and body today.
_invitation_parts = _parts_table("score_invitation_parts", *_INVITATION_SUMS)
_PARTS = (_answer_parts, _follow_up_parts, _invitation_parts)


def _count_if(condition: Any) -> Any:
    return sa.func.count().filter(condition)


def _integer(count: Any) -> Any:
    """A count as a 4-byte integer: PostgreSQL then sums it in 8-byte integers, not in
    arbitrary precision."""
    return sa.cast(count, sa.Integer)


def _create_parts(table: sa.Table, grouped: Any, catalogue: bool = False) -> None:
    """Create ``table`` from the rows of ``grouped`` (grouped by session, or by what an
    answer is about), each with its session's place; with ``catalogue``, with the
    session's action, course and body today."""
    grouped = grouped.subquery()
    joined = grouped.join(Session, Session.id == grouped.c.session_id)
    if catalogue:
        joined = joined.join(Action, Action.id == Session.action_id)
        about = [grouped.c.session_id, Session.action_id, Action.course_id,
                 Action.training_body_id]
    else:
        about = [grouped.c[name] for name in _PLACE[:4]]
    query = sa.select(*(c.label(name) for c, name in zip(about, _PLACE, strict=False)),
                      Session.departement, Session.region_code,
                      *(c for c in grouped.c if c.key not in _PLACE)).select_from(joined)
    db.session.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
    db.session.execute(_CreateTemporaryTableAs(table.name, query))


def _build_parts() -> None:
    """The three parts tables, from every answer, follow-up, enrolment and invitation."""
    postgresql = db.session.connection().dialect.name == "postgresql"
    if postgresql:
        # Sorts and hashes of a few hundred thousand groups stay in memory; compiling
        # these statements to machine code costs more than it saves.
        db.session.execute(sa.text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        db.session.execute(sa.text("SET LOCAL jit = off"))

    about = (Answer.session_id, Answer.action_id, Answer.course_id, Answer.training_body_id)
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    _create_parts(_answer_parts, sa.select(
        *about, _integer(sa.func.count()).label("n"),
        _integer(_count_if(Answer.overall >= 4)).label("satisfied"),
        _integer(_count_if(Answer.would_recommend.is_(True))).label("recommend"),
        *(_integer(_count_if(getattr(Answer, d) == m)).label(f"{d}_{m}")
          for d in DIMENSIONS for m in MARKS),
        sa.cast(sa.func.sum(total * total), sa.BigInteger).label("squares")).group_by(*about))

    about = (FollowUpAnswer.session_id, FollowUpAnswer.action_id, FollowUpAnswer.course_id,
             FollowUpAnswer.training_body_id)
    _create_parts(_follow_up_parts, sa.select(
        *about, _integer(sa.func.count()).label("follow_ups"),
        _integer(_count_if(FollowUpAnswer.situation == Situation.employed)).label("employed"),
    ).group_by(*about))

    # At most one end-of-training invitation per enrolment: the outer join keeps one row
    # per enrolment, so count(*) counts the enrolled.
    invitation = sa.and_(Invitation.enrolment_id == Enrolment.id,
                         Invitation.kind == InvitationKind.end_of_training)
    _create_parts(_invitation_parts, sa.select(
        Enrolment.session_id, _integer(sa.func.count()).label("enrolled"),
        _integer(sa.func.count(Invitation.id).filter(_DELIVERED)).label("delivered"),
    ).select_from(Enrolment).outerjoin(Invitation, invitation).group_by(Enrolment.session_id),
        catalogue=True)


def _drop_parts() -> None:
    for table in _PARTS:
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))


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


def _parts_statistics() -> tuple[dict[str, float], float | None]:
    p = _answer_parts.c
    st = _add(sa.func.sum(_mark_sum(p, d)) for d in DIMENSIONS)
    return _statistics_from(db.session.execute(
        sa.select(p.region_code, sa.func.sum(p.n).label("n"), st.label("st"),
                  sa.func.sum(p.squares).label("stt"))
        .group_by(p.region_code).order_by(p.region_code)).all())


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


def _scope_rows(scope: ScoreScope, chunk: list[Any] | None, prior: _Prior | None) -> Any:
    """SELECT of the rows of ``scope`` (restricted to the keys in ``chunk``) from the
    parts, with the fair numbers when ``prior`` is given: the column names of ``Score``.

    One aggregation: the three parts are stacked (each with zeros for the others'
    counts) and summed per key and region, then per key."""
    config = current_app.config
    name = _PART_KEYS[scope]
    zero = sa.literal_column("0")

    def stacked(table: sa.Table) -> Any:
        query = sa.select(table.c[name].label("key"), table.c.region_code,
                          *(table.c[c] if c in table.c else zero.label(c) for c in _SUMS))
        return query if chunk is None else query.where(table.c[name].in_(chunk))

    every = sa.union_all(*(stacked(table) for table in _PARTS)).subquery("every")
    summed = {c: sa.func.sum(every.c[c]) for c in _SUMS}
    # overall = (sum of the five marks) / 5, so its mean is the total over 5·n. Computed
    # in the aggregation, whose expressions are evaluated once per key (the fair numbers
    # use it several times).
    total = _add(_mark_sum(summed, d) for d in DIMENSIONS)
    sums = [*(value.label(c) for c, value in summed.items()),
            _ratio(total, sa.literal(len(DIMENSIONS)) * summed["n"]).label("mean_overall")]
    present = sa.or_(sa.func.sum(every.c.n) > 0, sa.func.sum(every.c.delivered) > 0,
                     sa.func.sum(every.c.follow_ups) > 0)
    if scope in (ScoreScope.session, ScoreScope.region):
        # One region per key: the session's, or the key itself.
        main_region = sa.case((every.c.n > 0, every.c.region_code), else_=sa.null())
        t = sa.select(every.c.key, *sums, sa.func.max(main_region).label("prior_region_code")
                      ).group_by(every.c.key).having(present).subquery("t")
    else:
        # The prior's region: where most answers come from, smallest code on a tie.
        parts = _answer_parts.c
        ranked = sa.select(parts[name].label("key"), parts.region_code, sa.func.row_number().over(
            partition_by=parts[name], order_by=(sa.func.sum(parts.n).desc(), parts.region_code)
        ).label("rank")).group_by(parts[name], parts.region_code)
        if chunk is not None:
            ranked = ranked.where(parts[name].in_(chunk))
        ranked = ranked.subquery("ranked")
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
    """Every number of ``scope`` except the fair score, per key (all keys, or ``keys``)."""
    _build_parts()
    rows: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(scope, keys):
        for found in db.session.execute(_scope_rows(scope, chunk, None)).mappings():
            row = dict(found)
            row["scope"] = scope
            rows[row["key"]] = row
    _drop_parts()
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


def _insert(scope: ScoreScope, chunk: list[Any] | None, prior: _Prior,
            stamps: dict[str, Any]) -> int:
    rows = _scope_rows(scope, chunk, prior).add_columns(
        *(sa.literal(value, Score.__table__.c[name].type).label(name)
          for name, value in stamps.items()))
    names = [c.name for c in rows.selected_columns]
    inserted = db.session.execute(sa.insert(Score).from_select(names, rows)
                                  .execution_options(preserve_rowcount=True))
    return inserted.rowcount


def _stamps(now: dt.datetime) -> dict[str, Any]:
    last_answer_id, last_follow_up_id = _watermarks()
    return {"computed_dt": now, "last_answer_id": last_answer_id,
            "last_follow_up_id": last_follow_up_id}


def _watermarks() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Answer.id), 0))),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(FollowUpAnswer.id), 0))))


def recompute_all() -> dict[str, int]:
    """Rebuild the whole table in one transaction, and commit."""
    _prepare()
    stamps = _stamps(clock.now())
    _build_parts()
    prior = _Prior(*_parts_statistics())
    db.session.execute(sa.delete(Score).execution_options(synchronize_session=False))
    counts = {scope.value: _insert(scope, None, prior, stamps) for scope in ScoreScope}
    _drop_parts()
    db.session.commit()
    return counts


def _shrink_others(prior: _Prior, stamps: dict[str, Any]) -> None:
    """Every row's prior, fair score and interval from the current regional statistics;
    only rows whose numbers change are written (and stamped)."""
    fair = prior.fair(Score.answers_count, Score.mean_overall, Score.prior_region_code)
    changed = sa.or_(*(getattr(Score, name).is_distinct_from(value)
                       for name, value in fair.items()))
    db.session.execute(sa.update(Score).where(Score.answers_count > 0, changed)
                       .values(**fair, **stamps)
                       .execution_options(synchronize_session=False))


def touched_keys(since_answer_id: int, since_follow_up_id: int,
                 since: dt.datetime) -> dict[ScoreScope, set[str]]:
    """The keys of every scope whose numbers may have changed since the previous run."""
    touched: dict[ScoreScope, set[str]] = {scope: set() for scope in ScoreScope}
    since_day = since.astimezone(clock.PARIS).date()

    def collect(query: Any, keys: dict[ScoreScope, Any]) -> None:
        scopes = list(keys)
        for found in db.session.execute(query.add_columns(*keys.values()).distinct()):
            for scope, value in zip(scopes, found, strict=True):
                touched[scope].add(str(value))

    collect(_answers_from().where(sa.or_(Answer.id > since_answer_id,
                                         Answer.answered_on >= since_day)),
            _about_keys(Answer))
    collect(_follow_ups_from().where(sa.or_(FollowUpAnswer.id > since_follow_up_id,
                                            FollowUpAnswer.answered_on >= since_day)),
            _about_keys(FollowUpAnswer))
    collect(_invitations_from().where(Invitation.status_dt >= since), _INVITATION_KEYS)
    for session_id in db.session.scalars(sa.select(Enrolment.session_id).distinct()
                                         .where(Enrolment.created_dt >= since)):
        touched[ScoreScope.session].add(str(session_id))
    return touched


def refresh() -> dict[str, int]:
    """Recompute the keys touched since the previous run (everything the first time),
    then every fair score; commit. Gives the same numbers as ``recompute_all``."""
    previous = db.session.execute(sa.select(
        sa.func.max(Score.last_answer_id), sa.func.max(Score.last_follow_up_id),
        sa.func.max(Score.computed_dt))).one()
    if previous[2] is None:
        return recompute_all()
    _prepare()
    stamps = _stamps(clock.now())
    touched = touched_keys(previous[0], previous[1], previous[2] - SAFETY_MARGIN)
    counts: dict[str, int] = {}
    if any(touched.values()):
        _build_parts()
        prior = _Prior(*_parts_statistics())
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
        _shrink_others(prior, stamps)
        _drop_parts()
    db.session.commit()
    return counts
