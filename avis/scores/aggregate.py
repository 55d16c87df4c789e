"""Answers → scores, with set-based queries (one GROUP BY per scope and source).

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

Incremental refresh. ``refresh()`` recomputes, with the very same queries, only the
keys touched since the previous run: answers and follow-ups with a higher id than the
watermark, and — because ids are allocated before their transaction commits, so a
late commit may carry a lower id — any answer dated since the day before the previous
run; invitations and enrolments changed since a day before the previous run. The
regional means and the pooled variance move with every answer, so every row's fair
score and interval are then recomputed (arithmetic on the stored means, no scan per
row). Not seen by ``refresh`` (run ``recompute_all`` after them): sessions moved to
another département or region, enrolments or invitations deleted by an erasure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from flask import current_app

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

_ID_SCOPES = frozenset({ScoreScope.body, ScoreScope.course, ScoreScope.action,
                        ScoreScope.session})
_DELIVERED = sa.or_(
    Invitation.status == InvitationStatus.answered,
    sa.and_(Invitation.first_sent_dt.is_not(None),
            Invitation.status.not_in([InvitationStatus.bounced, InvitationStatus.failed])),
)


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


def _grouped(query: Any, key: Any, scope: ScoreScope, keys: list[str] | None,
             *columns: Any) -> Iterator[Any]:
    """Rows of ``query`` grouped by ``key`` (restricted to ``keys`` when given)."""
    for chunk in _chunks(scope, keys):
        q = query.add_columns(key.label("key"), *columns).group_by(key)
        if chunk is not None:
            q = q.where(key.in_(chunk))
        yield from db.session.execute(q)


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def compute_rows(scope: ScoreScope, keys: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every number of ``scope`` except the fair score, per key (all keys, or ``keys``)."""
    config = current_app.config
    rows: dict[str, dict[str, Any]] = {}

    def row(key: Any) -> dict[str, Any]:
        text = str(key)
        if text not in rows:
            rows[text] = {
                "scope": scope, "key": text, "answers_count": 0, "invitations_delivered": 0,
                "follow_ups_count": 0, "is_public": True, "prior_region_code": None,
                **{f"mean_{d}": None for d in (*DIMENSIONS, "overall")},
                **{f"distribution_{d}": None for d in DIMENSIONS},
                "satisfied_share": None, "recommendation_rate": None,
            }
        return rows[text]

    key = _about_keys(Answer)[scope]
    ones = lambda condition: sa.func.sum(sa.case((condition, 1), else_=0))  # noqa: E731
    # Integer sums, divided in Python: exact, so a refresh and a full run (which sum in
    # different orders) give the very same floats.
    columns = [
        sa.func.count().label("n"),
        *(sa.func.sum(getattr(Answer, d)).label(d) for d in DIMENSIONS),
        ones(Answer.overall >= 4).label("satisfied"),
        ones(Answer.would_recommend.is_(True)).label("recommend"),
        *(ones(getattr(Answer, d) == mark).label(f"{d}_{mark}")
          for d in DIMENSIONS for mark in range(1, 6)),
    ]
    for found in _grouped(_answers_from(), key, scope, keys, *columns):
        values = found._mapping
        r = row(found.key)
        n = values["n"]
        r["answers_count"] = n
        for d in DIMENSIONS:
            r[f"mean_{d}"] = values[d] / n
            r[f"distribution_{d}"] = {str(m): int(values[f"{d}_{m}"]) for m in range(1, 6)}
        # overall = (sum of the five marks) / 5, so its mean is the total over 5·n
        r["mean_overall"] = sum(values[d] for d in DIMENSIONS) / (len(DIMENSIONS) * n)
        r["satisfied_share"] = _share(values["satisfied"], n)
        r["recommendation_rate"] = _share(values["recommend"], n)

    # The prior's region: where most answers come from, smallest code on a tie.
    best: dict[str, tuple[int, str]] = {}
    for found in _grouped(_answers_from().group_by(Session.region_code), key, scope, keys,
                          Session.region_code, sa.func.count().label("n")):
        text = str(found.key)
        candidate = (-found.n, found.region_code)
        if text not in best or candidate < best[text]:
            best[text] = candidate
    for text, (_n, region) in best.items():
        rows[text]["prior_region_code"] = region

    for found in _grouped(_invitations_from().where(_DELIVERED), _INVITATION_KEYS[scope],
                          scope, keys, sa.func.count().label("n")):
        row(found.key)["invitations_delivered"] = found.n

    for found in _grouped(_follow_ups_from(), _about_keys(FollowUpAnswer)[scope], scope, keys,
                          sa.func.count().label("n"),
                          ones(FollowUpAnswer.situation == Situation.employed).label("employed")):
        r = row(found.key)
        r["follow_ups_count"] = found.n
        r["insertion_rate"] = _share(found.employed, found.n)

    if scope == ScoreScope.session:
        enrolled = {str(found.key): found.n for found in _grouped(
            sa.select().select_from(Enrolment), Enrolment.session_id, scope, list(rows),
            sa.func.count().label("n"))}
        for text, r in rows.items():
            r["is_public"] = enrolled.get(text, 0) >= config["MIN_SESSION_SIZE"]

    for r in rows.values():
        r.setdefault("insertion_rate", None)
        r["response_rate"] = (r["answers_count"] / r["invitations_delivered"]
                              if r["invitations_delivered"] else None)
        r["has_score"] = r["answers_count"] >= config["MIN_REVIEWS_FOR_SCORE"]
    return rows


def regional_statistics() -> tuple[dict[str, float], float | None]:
    """The mean ``overall`` of each region, and the pooled within-region variance.

    ``overall`` is the total of the five marks over 5: integer sums keep it exact."""
    total = sum((getattr(Answer, d) for d in DIMENSIONS[1:]), getattr(Answer, DIMENSIONS[0]))
    found = db.session.execute(
        _answers_from().add_columns(Session.region_code, sa.func.count().label("n"),
                                    sa.func.sum(total).label("st"),
                                    sa.func.sum(total * total).label("stt"))
        .group_by(Session.region_code).order_by(Session.region_code)).all()
    scale = len(DIMENSIONS)
    means = {r.region_code: r.st / (scale * r.n) for r in found}
    freedom = sum(r.n for r in found) - len(found)
    if freedom <= 0:
        return means, None
    squares = sum(Fraction(int(r.stt)) - Fraction(int(r.st) ** 2, r.n) for r in found)
    return means, float(squares / (scale * scale * freedom))


def fair_score(n: int, mean: float, prior: float,
               variance: float | None) -> tuple[float, float | None, float | None]:
    """Bayesian average of ``n`` answers of mean ``mean`` and its 90 % interval."""
    weight = PRIOR_WEIGHT + n
    score = (PRIOR_WEIGHT * prior + n * mean) / weight
    if variance is None:
        return score, None, None
    half = Z_90 * math.sqrt(variance / weight)
    return score, max(1.0, score - half), min(5.0, score + half)


def _shrink_all(now: dt.datetime, last_answer_id: int, last_follow_up_id: int) -> int:
    """Recompute every row's prior, fair score and interval; stamp the watermarks."""
    means, variance = regional_statistics()
    updates = []
    for found in db.session.execute(sa.select(Score.id, Score.answers_count, Score.mean_overall,
                                              Score.prior_region_code)):
        values: dict[str, Any] = {"id": found.id, "computed_dt": now,
                                  "last_answer_id": last_answer_id,
                                  "last_follow_up_id": last_follow_up_id,
                                  "prior_mean": None, "fair_score": None,
                                  "fair_score_low": None, "fair_score_high": None}
        prior = means.get(found.prior_region_code or "")
        if found.answers_count and found.mean_overall is not None and prior is not None:
            score, low, high = fair_score(found.answers_count, found.mean_overall, prior,
                                          variance)
            values.update(prior_mean=prior, fair_score=score, fair_score_low=low,
                          fair_score_high=high)
        updates.append(values)
    if updates:
        db.session.execute(sa.update(Score), updates)
    return len(updates)


def _watermarks() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Answer.id), 0))),
            db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(FollowUpAnswer.id), 0))))


def _insert(rows: Iterable[dict[str, Any]], now: dt.datetime) -> int:
    batch = [{**r, "computed_dt": now} for r in rows]
    if batch:
        db.session.execute(sa.insert(Score), batch)
    return len(batch)


def recompute_all() -> dict[str, int]:
    """Rebuild the whole table in one transaction, and commit."""
    now = clock.now()
    last_answer_id, last_follow_up_id = _watermarks()
    db.session.execute(sa.delete(Score))
    counts = {}
    for scope in ScoreScope:
        counts[scope.value] = _insert(compute_rows(scope).values(), now)
    _shrink_all(now, last_answer_id, last_follow_up_id)
    db.session.commit()
    return counts


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
    now = clock.now()
    last_answer_id, last_follow_up_id = _watermarks()
    touched = touched_keys(previous[0], previous[1], previous[2] - SAFETY_MARGIN)
    counts: dict[str, int] = {}
    for scope, keys in touched.items():
        if not keys:
            continue
        ordered = sorted(keys)
        for chunk in _chunks(scope, ordered):
            assert chunk is not None
            db.session.execute(sa.delete(Score).where(
                Score.scope == scope, Score.key.in_([str(k) for k in chunk])))
        counts[scope.value] = _insert(compute_rows(scope, ordered).values(), now)
    if counts:
        _shrink_all(now, last_answer_id, last_follow_up_id)
    db.session.commit()
    return counts
