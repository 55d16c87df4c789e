"""The body's home: its figures, trend and peers, per establishment."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from avis.accounts.access import allow
from avis.accounts.models import Role
from avis.admin import admin_blueprint
from avis.bodies import charts, figures
from avis.catalog.geo import REGION_NAMES
from avis.catalog.models.training_bodies import TrainingBody
from avis.public import charts as public_charts
from avis.scores.aggregate import PRIOR_WEIGHT
from avis.surveys.models.answers import DIMENSIONS

bp = admin_blueprint("body_home", __name__, template_folder="templates")


@bp.get("/mon-organisme")
@allow(Role.organisation)
def home() -> ResponseReturnValue:
    """The establishment's figures (``?siret=`` picks one of the account's)."""
    return home_page()


def home_page() -> str:
    """The page itself: also the back-office home of training bodies (``admin.home``)."""
    bodies = figures.establishments()
    body = figures.chosen_establishment(request.args.get("siret"), bodies)
    context: dict[str, Any] = {"establishments": bodies, "body": body, **page_helpers()}
    if body is not None:
        context.update(_figures_of(body))
    return render_template("bodies/home.html", **context)


def page_helpers() -> dict[str, Any]:
    """What the public pages' score macros need."""
    return {"dimensions": DIMENSIONS, "prior_weight": PRIOR_WEIGHT,
            "score_scale": public_charts.score_scale,
            "distribution_bars": public_charts.distribution_bars,
            "min_size": figures.min_size(), "region_names": REGION_NAMES}


def _figures_of(body: TrainingBody) -> dict[str, Any]:
    found = figures.scores(body)
    region_code = found.region.key if found.region else None
    months = figures.trend(body)
    labels = [m.month.strftime("%Y-%m") for m in months]
    reference = found.region.mean_overall if found.region else None
    return {
        "score": found.body, "region_score": found.region,
        "score_shown": figures.score_shown(found.body),
        "region_name": REGION_NAMES.get(region_code or "", region_code),
        "months": months,
        "answers_chart": charts.answers_bars(
            labels, [m.answers for m in months], _("Answers per month"), "trend-table"),
        "marks_chart": charts.marks_line(
            labels, [m.mean_overall for m in months],
            _("Mean overall mark per month (dashed line: the région's mean)")
            if reference is not None else _("Mean overall mark per month"),
            "trend-table", reference),
        "trend_shown": any(m.mean_overall is not None for m in months),
        "peers": figures.peers(body, found.body, region_code),
        "min_peers": figures.MIN_PEERS,
        "courses": figures.breakdown(body),
    }
