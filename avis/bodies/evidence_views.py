"""Qualiopi evidence (indicators 2 and 30): a printable page and an XLSX.

Qualiopi asks a body to publish its satisfaction and outcome rates. The page and the
workbook give the same lines (``avis.bodies.figures.evidence``): per period of session
end, all courses together then each course, with the method beside them. Reading one's
own aggregate figures reads no personal data: nothing is journaled.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from avis import clock
from avis.accounts.access import allow
from avis.accounts.models import Role
from avis.admin import admin_blueprint
from avis.bodies import figures
from avis.bodies.home_views import page_helpers
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.scores.aggregate import PRIOR_WEIGHT
from avis.scores.models import ScoreRun
from avis.spreadsheets import XLSX_TYPE, xlsx_bytes

bp = admin_blueprint("evidence", __name__, template_folder="templates")


def period_label(period: figures.Period) -> str:
    if period.key == "12m":
        return _("Sessions ended in the last 12 months (%(first)s – %(last)s)",
                 first=format_date(period.first, "short"), last=format_date(period.last, "short"))
    return _("Sessions ended in %(year)s", year=period.key)


def _chosen() -> tuple[list[TrainingBody], TrainingBody | None]:
    bodies = figures.establishments()
    return bodies, figures.chosen_establishment(request.args.get("siret"), bodies)


def _figures_date(score: Any) -> Any:
    """When the figures were computed: the establishment's row, else the last run."""
    if score is not None:
        return score.computed_dt
    return db.session.scalar(sa.select(sa.func.max(ScoreRun.started_dt)))


@bp.get("/mon-organisme/qualiopi")
@allow(Role.organisation)
def page() -> ResponseReturnValue:
    """Satisfaction and outcome rates per course and period, with the method: to print."""
    bodies, body = _chosen()
    context: dict[str, Any] = {"establishments": bodies, "body": body, **page_helpers()}
    if body is not None:
        found = figures.scores(body)
        lines = figures.evidence(body)
        context.update(
            score=found.body, score_shown=figures.score_shown(found.body),
            periods=[(period, period_label(period),
                      [line for line in lines if line.period == period])
                     for period in figures.periods()],
            computed=_figures_date(found.body),
            widget=widget_snippet(body))
    return render_template("bodies/evidence.html", prior=PRIOR_WEIGHT, **context)


def widget_snippet(body: TrainingBody) -> str:
    """The HTML a body pastes on its own site to show its score (``avis/widget``)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return (f'<div class="avis-widget" data-type="organisme" data-format="score"\n'
            f'     data-identifiant="{body.siret}"></div>\n'
            f'<script src="{base}/widget.js"></script>')


HEADER = (
    _l("Period"), _l("Course"), _l("Course number"), _l("Answers"), _l("Satisfied (share)"),
    _l("Mean overall mark (out of 5)"), _l("Would recommend (share)"),
    _l("Questionnaires delivered"), _l("Response rate"), _l("6-month follow-up answers"),
    _l("In work at 6 months (share)"), _l("Figures as of"),
)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evidence_rows(body: TrainingBody) -> list[list[object]]:
    """The page's lines as spreadsheet rows: marks and rates empty on a line with too few
    answers, as on the page."""
    computed = _figures_date(figures.scores(body).body)
    rows: list[list[object]] = []
    for line in figures.evidence(body):
        tally = line.tally
        shown = tally.shown
        rows.append([
            period_label(line.period), line.course_title or _("All courses"),
            line.course_numero or "", tally.answers,
            _share(tally.satisfied_share) if shown else None,
            round(tally.mean_overall, 2) if shown and tally.mean_overall is not None else None,
            _share(tally.recommendation_rate) if shown else None,
            tally.delivered,
            _share(tally.response_rate) if shown else None,
            tally.follow_ups,
            _share(tally.insertion_rate) if shown else None,
            computed,
        ])
    return rows


@bp.get("/mon-organisme/qualiopi.xlsx")
@allow(Role.organisation)
def workbook() -> ResponseReturnValue:
    """The same figures as the page, as an XLSX workbook."""
    _bodies, body = _chosen()
    if body is None:
        rows: list[list[object]] = []
        name = "qualiopi"
    else:
        rows = evidence_rows(body)
        name = f"qualiopi-{body.siret}"
    header = [str(title) for title in HEADER]
    stamp = clock.today().strftime("%Y%m%d")
    return Response(xlsx_bytes(header, rows, sheet="Qualiopi"), content_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"'})
