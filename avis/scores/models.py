"""Scores: one row per (scope, key), recomputed from answers by ``avis.scores.aggregate``.

Everything here is derived data: ``recompute_all()`` can rebuild the table at any time.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum


class ScoreScope(enum.StrEnum):
    #: a training body (key: ``training_bodies.id``)
    body = "body"
    #: a course (key: ``courses.id``)
    course = "course"
    #: an action (key: ``actions.id``)
    action = "action"
    #: a session (key: ``sessions.id``)
    session = "session"
    #: a département (key: its code, "44", "2A", "974")
    departement = "departement"
    #: a region (key: its INSEE code, "52")
    region = "region"


def _distribution() -> Mapped[dict[str, int] | None]:
    return mapped_column(sa.JSON)


class Score(Base):
    """The published numbers of one body, course, action, session, département or region."""

    __tablename__ = "scores"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the row is about
    scope: Mapped[ScoreScope] = mapped_column(string_enum(ScoreScope, 16))
    #: which one: the id as text for body, course, action and session; the code for
    #: département and region
    key: Mapped[str] = mapped_column(sa.String(20))
    #: end-of-training answers counted
    answers_count: Mapped[int]
    #: mean of the "welcome" marks (None without answers)
    mean_welcome: Mapped[float | None]
    #: mean of the "content" marks
    mean_content: Mapped[float | None]
    #: mean of the "trainers" marks
    mean_trainers: Mapped[float | None]
    #: mean of the "equipment" marks
    mean_equipment: Mapped[float | None]
    #: mean of the "support" marks
    mean_support: Mapped[float | None]
    #: mean of the answers' unrounded ``overall``: the plain (unfair with few answers) mean
    mean_overall: Mapped[float | None]
    #: count of each "welcome" mark, {"1": n, …, "5": n}
    distribution_welcome: Mapped[dict[str, int] | None] = _distribution()
    #: count of each "content" mark
    distribution_content: Mapped[dict[str, int] | None] = _distribution()
    #: count of each "trainers" mark
    distribution_trainers: Mapped[dict[str, int] | None] = _distribution()
    #: count of each "equipment" mark
    distribution_equipment: Mapped[dict[str, int] | None] = _distribution()
    #: count of each "support" mark
    distribution_support: Mapped[dict[str, int] | None] = _distribution()
    #: share of answers with ``overall`` ≥ 4
    satisfied_share: Mapped[float | None]
    #: share of answers that would recommend the course
    recommendation_rate: Mapped[float | None]
    #: end-of-training invitations delivered: answered, or first email sent and neither
    #: bounced nor failed (complained, unsubscribed and expired ones were delivered)
    invitations_delivered: Mapped[int]
    #: answers ÷ invitations delivered (None when none was delivered); the invitations
    #: follow the catalogue today, the answers the catalogue at answer time
    response_rate: Mapped[float | None]
    #: 6-month follow-up answers counted
    follow_ups_count: Mapped[int]
    #: share of follow-up answers saying "employed" (None without follow-ups); "training"
    #: is not counted as insertion, a further course is not a job
    insertion_rate: Mapped[float | None]
    #: the region whose mean is the prior: where most of the answers come from (smallest
    #: code on a tie); None without answers
    prior_region_code: Mapped[str | None] = mapped_column(sa.String(2))
    #: the prior mean C: the mean ``overall`` of that region
    prior_mean: Mapped[float | None]
    #: Bayesian average (m·C + Σ overall) / (m + n), m = ``PRIOR_WEIGHT``
    fair_score: Mapped[float | None]
    #: lower end of the 90 % interval around ``fair_score`` (see ``aggregate.interval``)
    fair_score_low: Mapped[float | None]
    #: upper end of the 90 % interval
    fair_score_high: Mapped[float | None]
    #: enough answers (``MIN_REVIEWS_FOR_SCORE``) for a score to be shown
    has_score: Mapped[bool]
    #: False for a session with fewer than ``MIN_SESSION_SIZE`` enrolled trainees: its
    #: answers count in wider scopes, but its own row must never be shown
    is_public: Mapped[bool]
    #: when the row's numbers were last computed
    computed_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: highest ``answers.id`` read by the computation (watermark of ``refresh``)
    last_answer_id: Mapped[int] = mapped_column(default=0)
    #: highest ``follow_up_answers.id`` read by the computation
    last_follow_up_id: Mapped[int] = mapped_column(default=0)

    @property
    def shown(self) -> bool:
        """The score may be published: enough answers, from a group large enough."""
        return self.has_score and self.is_public

    @property
    def too_small(self) -> bool:
        """Enough answers, but from fewer trainees than ``MIN_SESSION_SIZE``."""
        return self.has_score and not self.is_public

    def distribution(self, dimension: str) -> dict[str, Any] | None:
        return getattr(self, f"distribution_{dimension}")

    def __repr__(self) -> str:
        return f"<Score {self.scope}:{self.key} n={self.answers_count} fair={self.fair_score}>"


def _count() -> Mapped[int]:
    return mapped_column(default=0)


class ScorePart(Base):
    """Integer counts of one session's answers, follow-ups and enrolments, from which every
    ``Score`` row is summed. One row per (session, action, course, body): answers and
    follow-ups as they were at answer time, enrolments and invitations with the session's
    action, course and body as they were when the row was computed; with the session's
    département and region then. Rebuilt by ``recompute_all``, a touched session's rows
    by ``refresh``."""

    __tablename__ = "score_parts"

    #: the session
    session_id: Mapped[int] = mapped_column(primary_key=True)
    #: the action the answers were about (the session's action for enrolments)
    action_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    #: the course the answers were about
    course_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    #: the training body the answers were about
    training_body_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    #: the session's département
    departement: Mapped[str] = mapped_column(sa.String(3), index=True)
    #: the session's region
    region_code: Mapped[str] = mapped_column(sa.String(2), index=True)
    #: end-of-training answers
    n: Mapped[int] = _count()
    #: answers with ``overall`` ≥ 4
    satisfied: Mapped[int] = _count()
    #: answers that would recommend the course
    recommend: Mapped[int] = _count()
    #: answers giving 1 to "welcome"
    welcome_1: Mapped[int] = _count()
    #: answers giving 2 to "welcome"
    welcome_2: Mapped[int] = _count()
    #: answers giving 3 to "welcome"
    welcome_3: Mapped[int] = _count()
    #: answers giving 4 to "welcome"
    welcome_4: Mapped[int] = _count()
    #: answers giving 5 to "welcome"
    welcome_5: Mapped[int] = _count()
    #: answers giving 1 to "content"
    content_1: Mapped[int] = _count()
    #: answers giving 2 to "content"
    content_2: Mapped[int] = _count()
    #: answers giving 3 to "content"
    content_3: Mapped[int] = _count()
    #: answers giving 4 to "content"
    content_4: Mapped[int] = _count()
    #: answers giving 5 to "content"
    content_5: Mapped[int] = _count()
    #: answers giving 1 to "trainers"
    trainers_1: Mapped[int] = _count()
    #: answers giving 2 to "trainers"
    trainers_2: Mapped[int] = _count()
    #: answers giving 3 to "trainers"
    trainers_3: Mapped[int] = _count()
    #: answers giving 4 to "trainers"
    trainers_4: Mapped[int] = _count()
    #: answers giving 5 to "trainers"
    trainers_5: Mapped[int] = _count()
    #: answers giving 1 to "equipment"
    equipment_1: Mapped[int] = _count()
    #: answers giving 2 to "equipment"
    equipment_2: Mapped[int] = _count()
    #: answers giving 3 to "equipment"
    equipment_3: Mapped[int] = _count()
    #: answers giving 4 to "equipment"
    equipment_4: Mapped[int] = _count()
    #: answers giving 5 to "equipment"
    equipment_5: Mapped[int] = _count()
    #: answers giving 1 to "support"
    support_1: Mapped[int] = _count()
    #: answers giving 2 to "support"
    support_2: Mapped[int] = _count()
    #: answers giving 3 to "support"
    support_3: Mapped[int] = _count()
    #: answers giving 4 to "support"
    support_4: Mapped[int] = _count()
    #: answers giving 5 to "support"
    support_5: Mapped[int] = _count()
    #: Σ (sum of an answer's five marks)²: the pooled variance needs it
    squares: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: follow-up answers
    follow_ups: Mapped[int] = _count()
    #: follow-up answers saying "employed"
    employed: Mapped[int] = _count()
    #: trainees enrolled
    enrolled: Mapped[int] = _count()
    #: end-of-training invitations delivered (see ``Score.invitations_delivered``)
    delivered: Mapped[int] = _count()


class ScorePrior(Base):
    """The priors of the fair scores, as computed by the last ``recompute_all``: the mean
    ``overall`` of each region, and on the row without a region the whole country's
    answers and the pooled within-region variance. ``refresh`` reads them instead of
    recomputing them, so that a new answer rewrites only the rows it is about."""

    __tablename__ = "score_priors"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the region (INSEE code); None on the one row for the whole country
    region_code: Mapped[str | None] = mapped_column(sa.String(2), unique=True)
    #: end-of-training answers counted
    answers_count: Mapped[int]
    #: their mean ``overall``: the prior mean C of the rows of this region
    mean_overall: Mapped[float | None]
    #: on the country's row only: the pooled within-region variance of ``overall``
    #: (None while there are fewer answers than regions + 1)
    pooled_variance: Mapped[float | None]
    #: when ``recompute_all`` computed them
    computed_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ScoreRun(Base):
    """One computation of the scores: where the next ``refresh`` starts from."""

    __tablename__ = "score_runs"

    #: surrogate key, in the order of the runs
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``recompute_all`` (everything, and the priors) rather than ``refresh``
    is_full: Mapped[bool]
    #: when the run started: the next ``refresh`` looks at what changed since
    #: ``aggregate.SAFETY_MARGIN`` before (changes that committed late)
    started_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: highest ``answers.id`` when the run started
    last_answer_id: Mapped[int]
    #: highest ``follow_up_answers.id`` when the run started
    last_follow_up_id: Mapped[int]
    #: sessions whose parts were recomputed and had changed (all of them for a full run)
    sessions_changed: Mapped[int]
