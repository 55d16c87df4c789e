"""Alerts for Region staff: a condition found by the daily job on a training body, a
campaign or a comment of their région, until it clears; acknowledged with a note."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum


class AlertRule(enum.StrEnum):
    #: a body's fair score of the last 90 days fell by ``SCORE_DROP`` or more from the
    #: 12 months before, with enough answers in both
    score_drop = "score_drop"
    #: a body had ``ALERT_NEGATIVE_REVIEWS`` negative reviews or more in 90 days
    negative_reviews = "negative_reviews"
    #: more than 10 % of a campaign's emails bounced
    bounces = "bounces"
    #: a body's response rate is under half its région's
    low_response = "low_response"
    #: a moderator rejected a comment as a serious alert
    serious_alert = "serious_alert"


class AlertStatus(enum.StrEnum):
    #: the condition holds and nobody has acknowledged it (or it worsened since)
    open = "open"
    #: someone of the région has seen it and written what is done
    acknowledged = "acknowledged"
    #: the condition no longer holds
    closed = "closed"


class Alert(Base):
    """One condition on one subject (a body, a campaign, a comment) in one région: found
    again every day while it holds, so it has one row whatever its history."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("rule", "region_code", "subject_key"),
                      sa.Index("ix_alerts_region_status", "region_code", "status"))

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: which condition
    rule: Mapped[AlertRule] = mapped_column(string_enum(AlertRule, 20))
    #: the région whose staff see it (the sessions' région)
    region_code: Mapped[str] = mapped_column(sa.String(2))
    #: what it is about, unique within a rule and a région: ``body:<id>``,
    #: ``campaign:<name>``, ``answer:<id>``
    subject_key: Mapped[str] = mapped_column(sa.String(140))
    #: the body it is about, if any
    training_body_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("training_bodies.id", ondelete="CASCADE"), index=True)
    #: the campaign it is about, if any
    campaign: Mapped[str | None] = mapped_column(sa.String(100))
    #: the answer it is about (serious alerts)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answers.id",
                                                                ondelete="CASCADE"))
    #: the rule's measure when last found: score points lost, reviews, bounce rate,
    #: the body's response rate divided by the région's
    value: Mapped[float] = mapped_column(sa.Float)
    #: the figures behind it, for the page and the email (counts, rates, scores)
    details: Mapped[dict[str, object]] = mapped_column(sa.JSON, default=dict)
    #: where it stands
    status: Mapped[AlertStatus] = mapped_column(string_enum(AlertStatus, 16),
                                                default=AlertStatus.open)
    #: when it was (last) opened: found, found again after clearing, or worsened
    opened_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the daily job last found it
    seen_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when it cleared
    closed_dt: Mapped[dt.datetime | None]
    #: how many times it opened again after an acknowledgement or a clearing
    reopened: Mapped[int] = mapped_column(default=0)
    #: who acknowledged it (not a foreign key: the note outlives the account)
    acknowledged_by_id: Mapped[int | None]
    #: when
    acknowledged_dt: Mapped[dt.datetime | None]
    #: the measure then: it opens again if the measure gets worse than that
    acknowledged_value: Mapped[float | None] = mapped_column(sa.Float)
    #: what the person wrote (an inspection planned, the body called…)
    note: Mapped[str | None] = mapped_column(sa.Text)


class DigestOptOut(Base):
    """A staff account that does not want the weekly alerts email."""

    __tablename__ = "alert_digest_opt_outs"

    #: the account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    #: since when
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
