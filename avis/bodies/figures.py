"""The figures of one establishment, for its own account: its scores, its monthly trend,
its breakdown by course, action and session, and the Qualiopi tables.

Everything but the trend is summed from what the hourly scores already hold
(``Score`` and ``ScorePart``): no page reads the answers one by one. The trend is the one
live count (one body's answers over two years, through the answers' body index).

Small groups. A body knows who followed its sessions: a session's marks from two answers
point at two people. No line of these pages rests on fewer than ``MIN_SESSION_SIZE``
answers: smaller sessions are shown together ("other sessions, grouped"), and any line
(a course, an action, a month, a period, the group itself) with fewer answers shows its
counts but none of its marks or rates — the public pages' rule, applied to answers
rather than enrolments because here the reader is the body itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.dialects import postgresql

from avis import clock
from avis.accounts.scope import get_or_404, scoped
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.scores.models import Score, ScorePart, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer

#: Fewer peers than this: no comparison (a percentile among three bodies tells each of
#: them too much about the others).
MIN_PEERS = 5
#: Months of the trend, the current one included.
TREND_MONTHS = 24
MARKS = range(1, 6)


def min_size() -> int:
    """The fewest answers a line of these pages may show marks for."""
    return int(current_app.config["MIN_SESSION_SIZE"])


# --- which establishment ------------------------------------------------------------------


def establishments() -> list[TrainingBody]:
    """The account's establishments (one for a SIRET account), by name."""
    return list(db.session.scalars(scoped(TrainingBody)
                                   .order_by(TrainingBody.name, TrainingBody.siret)))


def chosen_establishment(siret: str | None, among: list[TrainingBody]) -> TrainingBody | None:
    """The establishment ``?siret=`` names (404 when it is not the account's, be it
    unknown or someone else's); without one, the first of the account's."""
    if siret:
        if not siret.isdigit() or len(siret) != 14:
            abort(404)
        return get_or_404(TrainingBody, TrainingBody.siret == siret)
    return among[0] if among else None


# --- sums of score parts -----------------------------------------------------------------


@dataclass
class Tally:
    """Counts summed over score parts, and the rates they give."""

    answers: int = 0
    satisfied: int = 0
    recommend: int = 0
    #: the sum of every mark of every answer (five per answer)
    marks_total: int = 0
    follow_ups: int = 0
    employed: int = 0
    delivered: int = 0
    sessions: int = 0
    #: hidden although large enough: its siblings' total would give away a small one
    withheld: bool = False

    def add(self, other: Tally) -> None:
        for name in ("answers", "satisfied", "recommend", "marks_total", "follow_ups",
                     "employed", "delivered", "sessions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def of(cls, tallies: Iterable[Tally]) -> Tally:
        total = cls()
        for tally in tallies:
            total.add(tally)
        return total

    @property
    def shown(self) -> bool:
        """Enough answers for marks and rates to be shown."""
        return self.answers >= min_size() and not self.withheld

    @property
    def mean_overall(self) -> float | None:
        return self.marks_total / (len(DIMENSIONS) * self.answers) if self.answers else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.answers if self.answers else None

    @property
    def recommendation_rate(self) -> float | None:
        return self.recommend / self.answers if self.answers else None

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.delivered if self.delivered else None

    @property
    def insertion_rate(self) -> float | None:
        """Employed ÷ follow-up answers; None with fewer follow-ups than a small group."""
        if self.follow_ups < min_size():
            return None
        return self.employed / self.follow_ups


def withhold_complements(siblings: list[Tally]) -> None:
    """Lines summing to a total that is shown: when those hidden hold fewer than
    ``MIN_SESSION_SIZE`` answers together, the total minus the shown lines would give
    them away; hide the smallest shown lines too, until the hidden ones are enough."""
    hidden = sum(t.answers for t in siblings if not t.shown)
    if hidden == 0:
        return
    for tally in sorted((t for t in siblings if t.shown), key=lambda t: t.answers):
        if hidden >= min_size():
            return
        tally.withheld = True
        hidden += tally.answers


_MARK_COLUMNS = [getattr(ScorePart, f"{d}_{m}") for d in DIMENSIONS for m in MARKS]


def _tally(row: Any) -> Tally:
    marks = sum(m * getattr(row, f"{d}_{m}") for d in DIMENSIONS for m in MARKS)
    return Tally(answers=row.n, satisfied=row.satisfied, recommend=row.recommend,
                 marks_total=marks, follow_ups=row.follow_ups, employed=row.employed,
                 delivered=row.delivered, sessions=1)


def _parts(body: TrainingBody) -> list[Any]:
    """The score parts of ``body`` (one per session, action and course), each with its
    session's dates and place (the session may be gone: an erasure)."""
    return list(db.session.execute(
        sa.select(ScorePart.session_id, ScorePart.action_id, ScorePart.course_id,
                  ScorePart.n, ScorePart.satisfied, ScorePart.recommend, *_MARK_COLUMNS,
                  ScorePart.follow_ups, ScorePart.employed, ScorePart.delivered,
                  Session.numero, Session.start_date, Session.end_date, Session.city)
        .outerjoin(Session, Session.id == ScorePart.session_id)
        .where(ScorePart.training_body_id == body.id)
        .order_by(Session.end_date.desc(), ScorePart.session_id)))


# --- the breakdown -------------------------------------------------------------------------


@dataclass
class SessionLine:
    numero: str
    start_date: dt.date | None
    end_date: dt.date | None
    city: str
    tally: Tally


@dataclass
class ActionLine:
    numero: str
    tally: Tally
    #: sessions with enough answers, each on its own line
    sessions: list[SessionLine] = field(default_factory=list)
    #: every other session of the action, summed (None when there is none)
    grouped: Tally | None = None


@dataclass
class CourseLine:
    title: str
    numero: str
    tally: Tally
    actions: list[ActionLine] = field(default_factory=list)


def breakdown(body: TrainingBody) -> list[CourseLine]:
    """``body``'s courses (most answers first), their actions and sessions; sessions with
    fewer than ``MIN_SESSION_SIZE`` answers only in their action's group."""
    by_action: dict[int, list[Any]] = defaultdict(list)
    action_course: dict[int, int] = {}
    for row in _parts(body):
        by_action[row.action_id].append(row)
        action_course[row.action_id] = row.course_id
    if not by_action:
        return []
    actions = {a.id: a for a in db.session.scalars(
        sa.select(Action).where(Action.id.in_(list(by_action))))}
    courses = {c.id: c for c in db.session.scalars(
        sa.select(Course).where(Course.id.in_(set(action_course.values()))))}
    lines: dict[int, CourseLine] = {}
    for action_id, rows in by_action.items():
        sessions, small = [], []
        for row in rows:
            tally = _tally(row)
            if tally.shown and row.numero is not None:
                sessions.append(SessionLine(row.numero, row.start_date, row.end_date,
                                            row.city, tally))
            else:
                small.append(tally)
        sessions.sort(key=lambda line: line.tally.answers)
        while small and sessions and sum(t.answers for t in small) < min_size():
            # The action's total minus its sessions shown would give the group away.
            small.append(sessions.pop(0).tally)
        sessions.sort(key=lambda line: (line.end_date or dt.date.min), reverse=True)
        action = actions.get(action_id)
        line = ActionLine(numero=action.numero if action else "—",
                          tally=Tally.of([*(s.tally for s in sessions), *small]),
                          sessions=sessions, grouped=Tally.of(small) if small else None)
        course_id = action_course[action_id]
        if course_id not in lines:
            course = courses.get(course_id)
            lines[course_id] = CourseLine(title=course.title if course else "—",
                                          numero=course.numero if course else "—",
                                          tally=Tally())
        lines[course_id].actions.append(line)
        lines[course_id].tally.add(line.tally)
    for course_line in lines.values():
        course_line.actions.sort(key=lambda a: (-a.tally.answers, a.numero))
        withhold_complements([a.tally for a in course_line.actions])
    withhold_complements([c.tally for c in lines.values()])
    return sorted(lines.values(), key=lambda c: (-c.tally.answers, c.title, c.numero))


# --- scores --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    #: the establishment's row (None before its first answer is scored)
    body: Score | None
    #: the row of its main région (where most of its answers come from)
    region: Score | None


def scores(body: TrainingBody) -> Scores:
    own = db.session.scalar(sa.select(Score).where(Score.scope == ScoreScope.body,
                                                   Score.key == str(body.id)))
    region_code = own.prior_region_code if own else None
    if region_code is None:
        # No answer yet: the région of its latest session.
        region_code = db.session.scalar(
            scoped(Session, Session.region_code)
            .join(Action, Action.id == Session.action_id)
            .where(Action.training_body_id == body.id)
            .order_by(Session.end_date.desc()).limit(1))
    region = None if region_code is None else db.session.scalar(
        sa.select(Score).where(Score.scope == ScoreScope.region, Score.key == region_code))
    return Scores(own, region)


def score_shown(score: Score | None) -> bool:
    """The establishment's own score may be shown: the public rule (enough answers, from
    enough trainees) and enough answers for a small group."""
    return bool(score and score.shown and score.fair_score is not None
                and score.answers_count >= min_size())


# --- the trend -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    #: its first day
    month: dt.date
    answers: int
    #: mean ``overall`` of its answers; None when there are too few to show it
    mean_overall: float | None


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def trend(body: TrainingBody, today: dt.date | None = None,
          months: int = TREND_MONTHS) -> list[Month]:
    """Answers per month of answer (those that count: not excluded by moderation) and
    their mean overall mark, over the last ``months`` months, the current one included."""
    today = today or clock.today()
    first = _month_start(today, months - 1)
    year = sa.extract("year", Answer.answered_on)
    month = sa.extract("month", Answer.answered_on)
    found = {(int(r.year), int(r.month)): r for r in db.session.execute(
        sa.select(year.label("year"), month.label("month"), sa.func.count().label("n"),
                  sa.func.sum(Answer.overall).label("total"))
        .where(Answer.training_body_id == body.id, Answer.excluded_reason.is_(None),
               Answer.answered_on >= first)
        .group_by(year, month))}
    result = []
    for back in range(months - 1, -1, -1):
        start = _month_start(today, back)
        row = found.get((start.year, start.month))
        n = int(row.n) if row else 0
        mean = float(row.total) / n if row and n >= min_size() else None
        result.append(Month(start, n, mean))
    return result


# --- peers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peers:
    region_code: str | None
    #: the formacodes of the establishment's courses
    formacodes: tuple[str, ...]
    #: other bodies (of another SIREN) teaching one of them in the région, with a score
    count: int
    #: share of those peers whose fair score is below the establishment's; None when
    #: there are too few peers or the establishment has no score shown
    below_share: float | None


def _overlap(column: Any, codes: list[str]) -> Any:
    """Whether the JSON list in ``column`` holds any of ``codes``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.type_coerce(column, postgresql.JSONB).has_any(
            sa.cast(postgresql.array(codes), postgresql.ARRAY(sa.Text)))
    items = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(1).select_from(items).where(items.c.value.in_(codes)))


def peer_scores(body: TrainingBody, region_code: str) -> tuple[tuple[str, ...], list[float]]:
    """The formacodes of ``body``'s courses, and the fair scores (shown ones only) of the
    other bodies teaching one of them in ``region_code``.

    Read outside the account's scope on purpose: only their number and a percentile
    leave this function, never a name, a SIRET or a review; and those scores are public."""
    codes = sorted({code for codes in db.session.scalars(
        sa.select(Course.formacodes).join(Action, Action.course_id == Course.id)
        .where(Action.training_body_id == body.id).distinct()) for code in (codes or ())})
    if not codes:
        return (), []
    peer_ids = (sa.select(Action.training_body_id)
                .join(Course, Course.id == Action.course_id)
                .join(Session, Session.action_id == Action.id)
                .join(TrainingBody, TrainingBody.id == Action.training_body_id)
                .where(_overlap(Course.formacodes, codes), Session.region_code == region_code,
                       TrainingBody.siren != body.siren)
                .distinct())
    keys = sa.select(sa.cast(peer_ids.subquery().c.training_body_id, sa.String(20)))
    found = db.session.scalars(
        sa.select(Score.fair_score).where(
            Score.scope == ScoreScope.body, Score.key.in_(keys), Score.has_score.is_(True),
            Score.is_public.is_(True), Score.fair_score.is_not(None)))
    return tuple(codes), [float(value) for value in found]


def peers(body: TrainingBody, own: Score | None, region_code: str | None) -> Peers:
    if region_code is None:
        return Peers(None, (), 0, None)
    codes, found = peer_scores(body, region_code)
    below = None
    if len(found) >= MIN_PEERS and score_shown(own):
        mine = own.fair_score if own else None
        assert mine is not None
        below = sum(1 for value in found if value < mine) / len(found)
    return Peers(region_code, codes, len(found), below)


# --- Qualiopi: per course and period -------------------------------------------------------


@dataclass(frozen=True)
class Period:
    #: "12m" for the last 12 months, else the year
    key: str
    first: dt.date
    last: dt.date


@dataclass
class EvidenceLine:
    #: None on the lines of all courses together
    course_title: str | None
    course_numero: str | None
    period: Period
    tally: Tally


#: Years of session end shown besides the last 12 months.
EVIDENCE_YEARS = 3


def periods(today: dt.date | None = None) -> list[Period]:
    """The last 12 months (sessions ended since the same day a year ago), then the
    ``EVIDENCE_YEARS`` latest calendar years, this one included."""
    today = today or clock.today()
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    found = [Period("12m", year_ago + dt.timedelta(days=1), today)]
    found += [Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
              for year in range(today.year, today.year - EVIDENCE_YEARS, -1)]
    return found


def evidence(body: TrainingBody, today: dt.date | None = None) -> list[EvidenceLine]:
    """For each period (by the date the sessions ended), all courses together, then
    each course with answers in it (most answers first)."""
    rows = _parts(body)
    courses = {c.id: c for c in db.session.scalars(
        sa.select(Course).where(Course.id.in_({r.course_id for r in rows})))} if rows else {}
    lines: list[EvidenceLine] = []
    for period in periods(today):
        within = [r for r in rows if r.end_date is not None
                  and period.first <= r.end_date <= period.last]
        lines.append(EvidenceLine(None, None, period, Tally.of(_tally(r) for r in within)))
        per_course: dict[int, Tally] = defaultdict(Tally)
        for row in within:
            per_course[row.course_id].add(_tally(row))
        withhold_complements(list(per_course.values()))
        for course_id, tally in sorted(per_course.items(),
                                       key=lambda item: (-item[1].answers, item[0])):
            if not tally.answers and not tally.follow_ups:
                continue
            course = courses.get(course_id)
            lines.append(EvidenceLine(course.title if course else "—",
                                      course.numero if course else "—", period, tally))
    return lines
