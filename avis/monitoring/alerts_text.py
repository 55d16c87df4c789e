"""What an alert says, in the reader's language: on the page and in the weekly email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import format_date, format_decimal, format_percent, gettext, ngettext
from flask_babel import lazy_gettext as _l

from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus

RULE_LABELS = {
    AlertRule.score_drop: _l("Score dropping"),
    AlertRule.negative_reviews: _l("Negative reviews"),
    AlertRule.bounces: _l("Emails bouncing"),
    AlertRule.low_response: _l("Low response rate"),
    AlertRule.serious_alert: _l("Serious alert"),
}

STATUS_LABELS = {
    AlertStatus.open: _l("Still open"),
    AlertStatus.acknowledged: _l("Acknowledged"),
    AlertStatus.closed: _l("Cleared"),
}


def body_names(alerts: Iterable[Alert]) -> dict[int, tuple[str, str]]:
    """Name and SIRET of the bodies the alerts are about, in one query."""
    ids = {a.training_body_id for a in alerts if a.training_body_id is not None}
    if not ids:
        return {}
    return {row.id: (row.name, row.siret) for row in db.session.execute(
        sa.select(TrainingBody.id, TrainingBody.name, TrainingBody.siret)
        .where(TrainingBody.id.in_(ids)))}


def _mark(value: object) -> str:
    return format_decimal(float(value), "0.0#")  # type: ignore[arg-type]


def _percent(value: object) -> str:
    return format_percent(float(value), "#,##0.#\xa0%")  # type: ignore[arg-type]


def describe(alert: Alert, bodies: dict[int, tuple[str, str]] | None = None) -> str:
    """One sentence: what holds, with its figures (plain text: templates escape it)."""
    if bodies is None:
        bodies = body_names([alert])
    name, siret = bodies.get(alert.training_body_id or 0, ("?", "?"))
    body = f"{name} ({siret})"
    d = alert.details
    if alert.rule == AlertRule.score_drop:
        return gettext("%(body)s: fair score %(after)s over the last 90 days (%(recent)s "
                       "answers), against %(before)s over the 12 months before (%(previous)s "
                       "answers).", body=body, after=_mark(d["after"]),
                       before=_mark(d["before"]), recent=d["recent"], previous=d["previous"])
    if alert.rule == AlertRule.negative_reviews:
        return ngettext("%(body)s: %(num)s negative review in the last 90 days "
                        "(threshold: %(threshold)s).",
                        "%(body)s: %(num)s negative reviews in the last 90 days "
                        "(threshold: %(threshold)s).", int(d["count"]),  # type: ignore[call-overload]
                        body=body, threshold=d["threshold"])
    if alert.rule == AlertRule.bounces:
        return gettext("Campaign « %(campaign)s »: %(rate)s of the emails sent in the last "
                       "12 months bounced (%(bounced)s of %(sent)s).",
                       campaign=alert.campaign, rate=_percent(alert.value),
                       bounced=d["bounced"], sent=d["sent"])
    if alert.rule == AlertRule.low_response:
        return gettext("%(body)s: response rate %(rate)s over the last 12 months "
                       "(answers: %(answered)s; emails delivered: %(delivered)s), under half "
                       "the région's %(region)s.", body=body, rate=_percent(d["rate"]),
                       region=_percent(d["region_rate"]), answered=d["answered"],
                       delivered=d["delivered"])
    return gettext("%(body)s: a comment was rejected as a serious alert on %(day)s.",
                   body=body, day=format_date(dt.date.fromisoformat(str(d["rejected_on"]))))
