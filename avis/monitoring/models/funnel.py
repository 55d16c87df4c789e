"""The response funnel's counts, pre-aggregated so that the dashboard sums a few thousand
rows instead of counting millions of enrolments and invitations (see
``avis.monitoring.funnel`` for how they are computed and what each step means)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, CodeList, string_enum
from avis.surveys.models.invitations import InvitationKind


def _count() -> Mapped[int]:
    return mapped_column(default=0)


class FunnelCounts:
    """The counts of a row: the funnel's steps, what happened beside, what the answers
    give (see ``avis.monitoring.funnel`` for what each step means)."""

    #: enrolments imported (end-of-training rows only: each enrolment counts once)
    enrolled: Mapped[int] = _count()
    #: invitations created
    invited: Mapped[int] = _count()
    #: invitations whose first email reached the provider
    sent: Mapped[int] = _count()
    #: invitations whose email reached the trainee's mailbox
    delivered: Mapped[int] = _count()
    #: invitations whose email was seen opened
    opened: Mapped[int] = _count()
    #: invitations whose questionnaire was opened
    clicked: Mapped[int] = _count()
    #: invitations answered
    answered: Mapped[int] = _count()
    #: invitations whose address bounced
    bounced: Mapped[int] = _count()
    #: invitations whose email was marked as spam
    complained: Mapped[int] = _count()
    #: invitations whose trainee asked for no more email
    unsubscribed: Mapped[int] = _count()
    #: invitations whose link expired unanswered
    expired: Mapped[int] = _count()
    #: invitations whose first email could not be sent
    failed: Mapped[int] = _count()
    #: end-of-training answers that count (not excluded by moderation)
    answers: Mapped[int] = _count()
    #: the sum of their five marks (mean overall = total ÷ 5 ÷ answers, exact)
    marks_total: Mapped[int] = _count()
    #: answers with ``overall`` ≥ 4
    satisfied: Mapped[int] = _count()
    #: answers that would recommend the course
    recommended: Mapped[int] = _count()
    #: 6-month follow-up answers
    follow_ups: Mapped[int] = _count()
    #: follow-up answers "in work"
    employed: Mapped[int] = _count()


class FunnelCount(FunnelCounts, Base):
    """The counts of one session's enrolments, invitations and answers of one campaign and
    one kind of questionnaire, with every dimension the dashboard filters and breaks down
    by copied onto the row (a page reads only this table).

    One row per (session, campaign, kind, body, course): a session's invitations count with
    its action's body and course of today, its answers with those they were about when
    given (as the scores do). A session is in exactly one row per (campaign, kind, body,
    course), so every total is a plain sum, and a session financed by several funders is
    one row holding the list: a filter by a funder keeps the rows whose list holds it,
    counting each enrolment once.
    """

    __tablename__ = "monitoring_counts"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "campaign", "kind", "training_body_id", "course_id",
                            name="uq_monitoring_counts_row"),
        # A région's rows of one kind by month: every page of region staff starts there.
        sa.Index("ix_monitoring_counts_region_kind_month", "region_code", "kind", "end_month"),
        # The nation's rows of one kind by month (admins; the nation's trend line).
        sa.Index("ix_monitoring_counts_kind_month", "kind", "end_month"),
        # A body's or a course's rows, anywhere (the SIRET and course filters).
        sa.Index("ix_monitoring_counts_training_body_id", "training_body_id"),
        sa.Index("ix_monitoring_counts_course_id", "course_id"),
        # A département's rows (an admin's filter reaches any région's).
        sa.Index("ix_monitoring_counts_departement", "departement"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the session counted (not a foreign key: the table is rebuilt daily, whole)
    session_id: Mapped[int]
    #: the import campaign of the enrolments counted; answers, which are anonymous, count
    #: with their session's first campaign (alphabetically) when it has several
    campaign: Mapped[str] = mapped_column(sa.String(100))
    #: the questionnaire: end of training, or the 6-month follow-up
    kind: Mapped[InvitationKind] = mapped_column(string_enum(InvitationKind, 20))
    #: the session's région (INSEE code)
    region_code: Mapped[str] = mapped_column(sa.String(2))
    #: the session's département
    departement: Mapped[str] = mapped_column(sa.String(3))
    #: first day of the month the session ended in
    end_month: Mapped[dt.date]
    #: the training body (the session's today for invitations, the answer's for answers)
    training_body_id: Mapped[int]
    #: the course (likewise)
    course_id: Mapped[int]
    #: the session's funder codes (a JSON list)
    funders: Mapped[list[int]] = mapped_column(CodeList, default=list)
    #: the session's funding scheme, as the source spells it
    funding_scheme: Mapped[str | None] = mapped_column(sa.String(32))


class FunnelMonthCount(FunnelCounts, Base):
    """``monitoring_counts`` summed per région, campaign, month, funders, funding scheme and
    kind: a few thousand rows for the whole country, what the dashboard reads when no
    filter or breakdown needs a body, a course or a département (and for the nation's
    trend line, always). Kept equal to those sums by every rebuild and refresh."""

    __tablename__ = "monitoring_month_counts"
    __table_args__ = (
        sa.UniqueConstraint("region_code", "campaign", "end_month", "funders",
                            "funding_scheme", "kind", name="uq_monitoring_month_counts_row"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the sessions' région
    region_code: Mapped[str] = mapped_column(sa.String(2))
    #: the campaign
    campaign: Mapped[str] = mapped_column(sa.String(100))
    #: first day of the month the sessions ended in
    end_month: Mapped[dt.date]
    #: the sessions' funder codes (a JSON list)
    funders: Mapped[list[int]] = mapped_column(CodeList, default=list)
    #: the sessions' funding scheme; "" when the source gives none (a key, never NULL)
    funding_scheme: Mapped[str] = mapped_column(sa.String(32))
    #: the questionnaire
    kind: Mapped[InvitationKind] = mapped_column(string_enum(InvitationKind, 20))


class FunnelBodyCount(FunnelCounts, Base):
    """``monitoring_counts`` summed per training body, région, département and kind, over
    every month, campaign, funder and scheme: a breakdown by body that no other filter
    narrows (a région's, a département's, the nation's) sums 60,000 rows instead of
    250,000 (per month the sessions' rows barely merge: a body ends a session or two a
    month). Kept equal to those sums by every rebuild and refresh."""

    __tablename__ = "monitoring_body_counts"
    __table_args__ = (
        sa.UniqueConstraint("training_body_id", "region_code", "departement", "kind",
                            name="uq_monitoring_body_counts_row"),
        # A région's or a département's rows.
        sa.Index("ix_monitoring_body_counts_region_departement", "region_code",
                 "departement"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the training body (as on the session rows)
    training_body_id: Mapped[int]
    #: the sessions' région
    region_code: Mapped[str] = mapped_column(sa.String(2))
    #: the sessions' département
    departement: Mapped[str] = mapped_column(sa.String(3))
    #: the questionnaire
    kind: Mapped[InvitationKind] = mapped_column(string_enum(InvitationKind, 20))


class FunnelCourseCount(FunnelCounts, Base):
    """``monitoring_counts`` summed per course, région, département and kind (as
    ``FunnelBodyCount`` is per body): the breakdowns by course that no other filter
    narrows. Kept equal to those sums by every rebuild and refresh."""

    __tablename__ = "monitoring_course_counts"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "region_code", "departement", "kind",
                            name="uq_monitoring_course_counts_row"),
        # A région's or a département's rows.
        sa.Index("ix_monitoring_course_counts_region_departement", "region_code",
                 "departement"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the course (as on the session rows)
    course_id: Mapped[int]
    #: the sessions' région
    region_code: Mapped[str] = mapped_column(sa.String(2))
    #: the sessions' département
    departement: Mapped[str] = mapped_column(sa.String(3))
    #: the questionnaire
    kind: Mapped[InvitationKind] = mapped_column(string_enum(InvitationKind, 20))


class FunnelRun(Base):
    """One computation of the counts: where the next incremental refresh starts from."""

    __tablename__ = "monitoring_runs"

    #: surrogate key, in the order of the runs
    id: Mapped[int] = mapped_column(primary_key=True)
    #: a full rebuild rather than an incremental refresh
    is_full: Mapped[bool]
    #: when the run started; the next refresh looks at changes since a margin before it
    started_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: highest ``answers.id`` when the run started
    last_answer_id: Mapped[int]
    #: highest ``follow_up_answers.id`` when the run started
    last_follow_up_id: Mapped[int]
    #: sessions whose rows were computed again
    sessions_changed: Mapped[int]

