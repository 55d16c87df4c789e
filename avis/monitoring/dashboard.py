"""The dashboard's queries: sums of ``monitoring_counts`` rows (never enrolments), within
the reader's scope and the filters.

Scope. Region staff see their région's rows, and only the rows of sessions of their
funders when their account names some; admins see every row (and may choose a région).
The nation's trend line sums every région's rows under the filters that do not point at
places or bodies (campaign, months, funder, funding scheme): national figures are
public knowledge of a kind, another région's body is not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.accounts.models import Role
from avis.accounts.scope import Scope
from avis.catalog.models.courses import Course
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db, funders_overlap
from avis.monitoring.funnel import COUNTS
from avis.monitoring.models.funnel import (
    FunnelBodyCount,
    FunnelCount,
    FunnelCourseCount,
    FunnelMonthCount,
)
from avis.surveys.models.invitations import InvitationKind

#: Rows per session: what filters and breakdowns by body, course or département read.
FINE: sa.Table = FunnelCount.__table__  # type: ignore[assignment]
#: Rows per région, campaign, month, funders, scheme and kind.
MONTHS: sa.Table = FunnelMonthCount.__table__  # type: ignore[assignment]
#: Rows per body (per course), région, département and kind, over every month.
BODIES: sa.Table = FunnelBodyCount.__table__  # type: ignore[assignment]
COURSES: sa.Table = FunnelCourseCount.__table__  # type: ignore[assignment]
#: The tables that answer, smallest first (a few thousand rows; 50,000; 60,000; 250,000
#: for the nation): the first that has every column a page filters and groups by.
SOURCES = (MONTHS, COURSES, BODIES, FINE)
#: What a breakdown can be by (its parameter value → the column it groups).
BREAKDOWNS = ("mois", "organisme", "formation", "campagne", "departement", "financeur",
              "dispositif")
#: How many rows of a breakdown the page shows (the downloads hold every row).
SHOWN_ROWS = 100
#: Months of the trend when the filters set no range.
TREND_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the figures to; None: no filter."""

    region: str | None = None
    campaign: str | None = None
    month_from: dt.date | None = None
    month_to: dt.date | None = None
    #: the body of a SIRET (0 when the SIRET is unknown: nothing matches)
    body_id: int | None = None
    #: the course of a catalogue number (0 when unknown)
    course_id: int | None = None
    departement: str | None = None
    funder: int | None = None
    scheme: str | None = None


@dataclass
class Figures:
    """The sums of a set of rows of one kind, and what the page divides them into."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["counts"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, other: dict[str, Any]) -> None:
        for name in COUNTS:
            self.counts[name] += int(other[name] or 0)

    @property
    def reached(self) -> int:
        """Emails that did not bounce: what the response rate divides by."""
        return self.counts["sent"] - self.counts["bounced"]

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.counts["answered"], self.reached)

    @property
    def mean_overall(self) -> float | None:
        """The mean overall mark (of five), from the exact sum of the marks."""
        answers = self.counts["answers"]
        return self.counts["marks_total"] / (5 * answers) if answers else None

    @property
    def satisfied_share(self) -> float | None:
        return _ratio(self.counts["satisfied"], self.counts["answers"])

    @property
    def recommendation_rate(self) -> float | None:
        return _ratio(self.counts["recommended"], self.counts["answers"])

    @property
    def insertion_rate(self) -> float | None:
        return _ratio(self.counts["employed"], self.counts["follow_ups"])

    def step_rate(self, step: str, previous: str) -> float | None:
        """The share of ``previous`` that reached ``step``."""
        return _ratio(self.counts[step], self.counts[previous])


def _ratio(count: int, total: int) -> float | None:
    return count / total if total > 0 else None


# --- conditions ------------------------------------------------------------------------

#: The column a breakdown groups by.
BY_COLUMN = {"mois": "end_month", "organisme": "training_body_id", "formation": "course_id",
             "campagne": "campaign", "departement": "departement", "financeur": "funders",
             "dispositif": "funding_scheme"}


def source(scope: Scope, filters: Filters, by: str | None = None) -> sa.Table:
    """The smallest table that answers ``scope`` under ``filters`` (grouped ``by``): every
    figure is the same sum of session rows whichever table gives it."""
    f = filters
    needed = {"kind", "region_code"}
    for column, value in (("campaign", f.campaign), ("end_month", f.month_from),
                          ("end_month", f.month_to), ("training_body_id", f.body_id),
                          ("course_id", f.course_id), ("departement", f.departement),
                          ("funders", f.funder), ("funding_scheme", f.scheme)):
        if value is not None:
            needed.add(column)
    if scope.funder_codes:
        needed.add("funders")
    if by is not None:
        needed.add(BY_COLUMN[by])
    return next(t for t in SOURCES if needed <= set(t.c.keys()))


def scope_condition(scope: Scope, t: sa.Table = FINE) -> sa.ColumnElement[bool]:
    """The rows of ``t`` that ``scope`` may read; none for roles without a dashboard."""
    if scope.role == Role.admin:
        return sa.true()
    if scope.role != Role.region or not scope.region_code:
        return sa.false()
    condition = t.c.region_code == scope.region_code
    if scope.funder_codes:
        condition = sa.and_(condition, funders_overlap(t.c.funders, scope.funder_codes))
    return condition


def _conditions(filters: Filters, t: sa.Table = FINE, *, national: bool = False
                ) -> list[sa.ColumnElement[bool]]:
    f = filters
    found: list[sa.ColumnElement[bool]] = []
    if f.campaign is not None:
        found.append(t.c.campaign == f.campaign)
    if f.month_from is not None:
        found.append(t.c.end_month >= f.month_from)
    if f.month_to is not None:
        found.append(t.c.end_month <= f.month_to)
    if f.funder is not None:
        found.append(funders_overlap(t.c.funders, (f.funder,)))
    if f.scheme is not None:
        found.append(t.c.funding_scheme == f.scheme)
    if national:
        return found
    if f.region is not None:
        found.append(t.c.region_code == f.region)
    if f.body_id is not None:
        found.append(t.c.training_body_id == f.body_id)
    if f.course_id is not None:
        found.append(t.c.course_id == f.course_id)
    if f.departement is not None:
        found.append(t.c.departement == f.departement)
    return found


def _sums(t: sa.Table) -> list[Any]:
    return [sa.func.coalesce(sa.func.sum(t.c[name]), 0).label(name)
            for name in COUNTS]


# --- figures ---------------------------------------------------------------------------

def totals(scope: Scope, filters: Filters) -> dict[InvitationKind, Figures]:
    """The figures of each questionnaire kind."""
    found = {kind: Figures() for kind in InvitationKind}
    t = source(scope, filters)
    for row in db.session.execute(
            sa.select(t.c.kind, *_sums(t)).where(scope_condition(scope, t),
                                                 *_conditions(filters, t))
            .group_by(t.c.kind)).mappings():
        found[InvitationKind(row["kind"])].add(row)
    return found


@dataclass
class BreakdownRow:
    """One line of a breakdown: its key, its label (and a second label: a SIRET, a
    catalogue number), the figures of end-of-training and follow-up questionnaires."""

    key: Any
    label: str
    detail: str | None = None
    end: Figures = field(default_factory=Figures)
    follow_up: Figures = field(default_factory=Figures)


#: The sortable columns of a breakdown (parameter values).
SORTS = ("libelle", "inscrits", "invites", "rebonds", "reponses", "taux", "satisfaction",
         "recommandation", "insertion")
#: Sorted from the smallest (labels) or from the largest (figures).
ASCENDING = frozenset({"libelle"})
_END, _LATER = InvitationKind.end_of_training.value, InvitationKind.follow_up.value


#: What a breakdown's line shows of each kind (its other counts stay 0): summing 36
#: columns instead of these 10 makes a breakdown of 250,000 rows three times slower.
LINE_COUNTS = {
    _END: ("enrolled", "invited", "sent", "bounced", "answered", "answers", "marks_total",
           "recommended"),
    _LATER: ("follow_ups", "employed"),
}


def _kind_sums(t: sa.Table, kind: str) -> list[Any]:
    """The counts of a line of the rows of one kind, per group (``e_…`` or ``f_…``)."""
    prefix = "e_" if kind == _END else "f_"
    return [sa.func.coalesce(sa.func.sum(t.c[name]).filter(t.c.kind == kind), 0)
            .label(prefix + name) for name in LINE_COUNTS[kind]]


def _sort_value(sort: str, grouped: Any, label: Any) -> Any:
    """The SQL value a breakdown's line is sorted on (NULL when undefined)."""
    g = grouped.c

    def ratio(count: Any, total: Any) -> Any:
        return sa.case((total > 0, sa.cast(count, sa.Float) / sa.cast(total, sa.Float)),
                       else_=sa.null())

    return {
        "libelle": label,
        "inscrits": g.e_enrolled, "invites": g.e_invited, "rebonds": g.e_bounced,
        "reponses": g.e_answered,
        "taux": ratio(g.e_answered, g.e_sent - g.e_bounced),
        "satisfaction": ratio(g.e_marks_total, 5 * g.e_answers),
        "recommandation": ratio(g.e_recommended, g.e_answers),
        "insertion": ratio(g.f_employed, g.f_follow_ups),
    }[sort]


def breakdown(scope: Scope, filters: Filters, by: str, sort: str = "inscrits",
              limit: int | None = None) -> tuple[list[BreakdownRow], int]:
    """The lines of the breakdown ``by`` sorted by ``sort`` (undefined figures last, then
    by label), the first ``limit`` ones (all without); and how many lines there are.

    Grouped, sorted and cut by the database: a région has thousands of bodies."""
    if by == "financeur":
        lines = _funder_lines(scope, filters)
        return _sorted(lines, sort)[:limit], len(lines)
    t = source(scope, filters, by)
    column = t.c[BY_COLUMN[by]]
    grouped = (sa.select(column.label("key"), *_kind_sums(t, _END), *_kind_sums(t, _LATER))
               .where(scope_condition(scope, t), *_conditions(filters, t)).group_by(column)
               .subquery("grouped"))
    counted: Any = sa.func.count().over()
    if (limit is not None and sort not in ASCENDING and by in ("organisme", "formation")
            and db.session.get_bind().dialect.name == "postgresql"):
        # Only the lines that can be among the first ``limit`` are labelled (joining the
        # names of 20,000 bodies costs as much as summing their rows): those of the
        # first values, with every tie of the last one, which the label orders.
        first = (sa.select(grouped, counted.label("lines"))
                 .order_by(_sort_value(sort, grouped, None).desc().nulls_last())
                 .fetch(limit, with_ties=True).subquery("first"))
        counted = first.c.lines
        grouped = first
    label: Any = grouped.c.key
    detail: Any = sa.null()
    query = sa.select(*(c for c in grouped.c if c.name != "lines"))
    if by == "organisme":
        query = query.join(TrainingBody, TrainingBody.id == grouped.c.key)
        label, detail = TrainingBody.name, TrainingBody.siret
    elif by == "formation":
        query = query.join(Course, Course.id == grouped.c.key)
        label, detail = Course.title, Course.numero
    value = _sort_value(sort, grouped, label)
    order = value.asc() if sort in ASCENDING else value.desc()
    query = (query.add_columns(label.label("label"), detail.label("detail"),
                               counted.label("lines"))
             .order_by(order.nulls_last(), label, grouped.c.key).limit(limit))
    lines: list[BreakdownRow] = []
    total = 0
    for row in db.session.execute(query).mappings():
        total = row["lines"]
        # No funding scheme: NULL in the session rows, "" in the month rows.
        line = BreakdownRow(key=None if row["key"] == "" else row["key"], label="",
                            detail=row["detail"])
        line.end.add({name: row.get("e_" + name, 0) for name in COUNTS})
        line.follow_up.add({name: row.get("f_" + name, 0) for name in COUNTS})
        if by in ("organisme", "formation"):
            line.label = row["label"]
        lines.append(line)
    _label(by, lines)
    return lines, total


def _funder_lines(scope: Scope, filters: Filters) -> list[BreakdownRow]:
    """A line per funder: a session financed by several funders counts under each of
    them; a funder-limited account sees its funders' lines only."""
    rows: dict[Any, BreakdownRow] = {}
    t = source(scope, filters, "financeur")
    for row in db.session.execute(
            sa.select(t.c.funders.label("key"), t.c.kind, *_sums(t))
            .where(scope_condition(scope, t), *_conditions(filters, t))
            .group_by(t.c.funders, t.c.kind)).mappings():
        keys = [code for code in (row["key"] or []) if not scope.funder_codes
                or code in scope.funder_codes] or ([] if scope.funder_codes else [None])
        for key in keys:
            line = rows.setdefault(key, BreakdownRow(key=key, label=""))
            (line.end if row["kind"] == _END else line.follow_up).add(row)
    _label("financeur", list(rows.values()))
    return list(rows.values())


_VALUES: dict[str, Any] = {
    "inscrits": lambda r: r.end.enrolled, "invites": lambda r: r.end.invited,
    "rebonds": lambda r: r.end.bounced, "reponses": lambda r: r.end.answered,
    "taux": lambda r: r.end.response_rate, "satisfaction": lambda r: r.end.mean_overall,
    "recommandation": lambda r: r.end.recommendation_rate,
    "insertion": lambda r: r.follow_up.insertion_rate,
}


def _sorted(lines: list[BreakdownRow], sort: str) -> list[BreakdownRow]:
    """``lines`` sorted as the database sorts the other breakdowns."""
    by_label = sorted(lines, key=lambda r: (r.label, str(r.key)))
    if sort == "libelle":
        return by_label
    value = _VALUES[sort]
    present = [r for r in by_label if value(r) is not None]
    present.sort(key=value, reverse=True)
    return present + [r for r in by_label if value(r) is None]


def _label(by: str, lines: list[BreakdownRow]) -> None:
    from avis.catalog.funders import FUNDER_LABELS
    from avis.catalog.geo import DEPARTEMENT_NAMES

    for line in lines:
        key = line.key
        if line.label:
            continue
        if key is None or key == "":
            line.label = "—"
        elif by == "mois":
            line.label = key.strftime("%Y-%m")
        elif by == "departement":
            line.label = f"{key} {DEPARTEMENT_NAMES.get(key, '')}".strip()
        elif by == "financeur":
            line.label = f"{key} {FUNDER_LABELS.get(int(key), '')}".strip()
        else:
            line.label = str(key)


@dataclass
class TrendMonth:
    month: dt.date
    here: Figures
    nation: Figures


def trend_months(filters: Filters) -> list[dt.date]:
    """The months of the trend: the filters' range, else the last 12 to this month."""
    last = filters.month_to or clock.today().replace(day=1)
    first = filters.month_from or _add_months(last, -(TREND_MONTHS - 1))
    months = []
    month = first
    while month <= last and len(months) < 120:
        months.append(month)
        month = _add_months(month, 1)
    return months


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def trend(scope: Scope, filters: Filters) -> list[TrendMonth]:
    """End-of-training figures per month of session end, in the scope and in the nation."""
    months = trend_months(filters)
    found = {month: TrendMonth(month, Figures(), Figures()) for month in months}
    here = source(scope, filters, "mois")
    for name, t, conditions in (
            ("here", here, [scope_condition(scope, here), *_conditions(filters, here)]),
            ("nation", MONTHS, _conditions(filters, MONTHS, national=True))):
        window = [t.c.kind == InvitationKind.end_of_training, t.c.end_month >= months[0],
                  t.c.end_month <= months[-1]]
        for row in db.session.execute(
                sa.select(t.c.end_month, *_sums(t)).where(*window, *conditions)
                .group_by(t.c.end_month)).mappings():
            month = row["end_month"]
            if isinstance(month, str):
                month = dt.date.fromisoformat(month)
            if month in found:
                getattr(found[month], name).add(row)
    return list(found.values())


# --- the filters' choices ----------------------------------------------------------------

#: How long a process keeps the filters' choices of a scope (the counts change hourly);
#: nothing when ``PAGE_CACHE_SECONDS`` is 0.
CHOICES_SECONDS = 60


def choices(scope: Scope) -> dict[str, list[Any]]:
    """The values the filters offer: those found in the scope's rows (five scans of
    them: kept ``CHOICES_SECONDS`` per process and scope)."""
    from avis.public.caching import cache

    key = (f"dashboard-choices:{scope.role}:{scope.region_code}:"
           f"{','.join(map(str, scope.funder_codes))}")
    keep = bool(current_app.config["PAGE_CACHE_SECONDS"])
    if keep:
        kept = cache.get(key)
        if kept is not None:
            return dict(kept)
    found = _choices(scope)
    if keep:
        cache.set(key, found, timeout=CHOICES_SECONDS)
    return found


def _choices(scope: Scope) -> dict[str, list[Any]]:
    def distinct(column: Any) -> list[Any]:
        query = sa.select(column).where(scope_condition(scope, column.table)).distinct()
        return [v for v in db.session.scalars(query.order_by(column)) if v not in (None, "")]

    m = MONTHS.c
    funders: set[int] = set()
    for codes in distinct(m.funders):
        funders.update(int(code) for code in codes)
    if scope.funder_codes:
        funders &= set(scope.funder_codes)
    places = source(scope, Filters(), "departement")
    return {"campaigns": distinct(m.campaign), "departements": distinct(places.c.departement),
            "schemes": distinct(m.funding_scheme), "funders": sorted(funders),
            "regions": distinct(m.region_code) if scope.role == Role.admin else []}


def body_id_of(siret: str) -> int:
    """The body of ``siret`` (0 when unknown: the filter then matches nothing)."""
    return db.session.scalar(sa.select(TrainingBody.id).where(TrainingBody.siret == siret)) or 0


def course_id_of(numero: str) -> int:
    return db.session.scalar(sa.select(Course.id).where(Course.numero == numero)) or 0
