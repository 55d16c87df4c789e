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
