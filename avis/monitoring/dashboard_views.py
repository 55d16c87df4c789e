"""``/admin/tableau-de-bord``: the response funnel, its rates, a breakdown and the monthly
trend, within one's scope and filters; every table as CSV or XLSX.

Region staff (their région; their funders' sessions when the account names some) and
admins (everything). Sums of pre-aggregated rows (``avis.monitoring.dashboard``), never
anything about a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from avis import clock
from avis.accounts.access import allow
from avis.accounts.models import Role
from avis.accounts.scope import Scope
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.catalog.geo import REGION_NAMES
from avis.monitoring import charts, dashboard
from avis.monitoring.dashboard import BreakdownRow, Figures, Filters
from avis.monitoring.dashboard_forms import BREAKDOWN_NAMES, DashboardFilterForm
from avis.spreadsheets import CSV_TYPE, XLSX_TYPE, csv_text, xlsx_bytes
from avis.surveys.models.invitations import InvitationKind

bp = admin_blueprint("dashboard", __name__, template_folder="templates")

#: The funnel's steps and their names (the follow-up funnel has no "imported").
STEP_NAMES: dict[str, LazyString] = {
    "enrolled": _l("Imported"),
    "invited": _l("Invitations created"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "opened": _l("Email opened"),
    "clicked": _l("Questionnaire opened"),
    "answered": _l("Answered"),
}
OUTCOME_NAMES: dict[str, LazyString] = {
    "bounced": _l("Bounced"),
    "complained": _l("Marked as spam"),
    "unsubscribed": _l("Unsubscribed"),
    "expired": _l("Expired unanswered"),
    "failed": _l("Could not be sent"),
}
#: The breakdown's columns: sort parameter → heading.
COLUMNS: dict[str, LazyString] = {
    "libelle": _l("Name"),
    "inscrits": _l("Imported"),
    "invites": _l("Invitations created"),
    "rebonds": _l("Bounced"),
    "reponses": _l("Answered"),
    "taux": _l("Response rate"),
    "satisfaction": _l("Mean overall mark"),
    "recommandation": _l("Would recommend"),
    "insertion": _l("In work at 6 months"),
}
TABLES = ("entonnoir", "suivi", "repartition", "tendance")
FORMATS = ("csv", "xlsx")


def _steps(kind: InvitationKind) -> list[str]:
    names = list(STEP_NAMES)
    return names if kind == InvitationKind.end_of_training else names[1:]


@bp.get("/tableau-de-bord")
@allow(Role.region, Role.admin)
def overview() -> ResponseReturnValue:
    """The funnel of one's scope under the filters of the address."""
    account = signed_in_account()
    assert account is not None  # require_access ran
    scope = Scope.of(account)
    form = DashboardFilterForm(request.args)
    form.offer(dashboard.choices(scope))
    if not form.validate():
        return render_template("monitoring/dashboard.html", form=form, invalid=True,
                               heading=_heading(scope)), 400
    filters = _filters(form)
    by = form.par.data or "mois"
    sort = request.args.get("tri", "")
    sort = sort if sort in dashboard.SORTS else "inscrits"
    table, file_format = request.args.get("tableau"), request.args.get("format")
    if table is not None or file_format is not None:
        if table not in TABLES or file_format not in FORMATS:
            abort(404)
        return _download(scope, filters, by, sort, table, file_format)
    totals = dashboard.totals(scope, filters)
    rows, total_rows = dashboard.breakdown(scope, filters, by, sort, dashboard.SHOWN_ROWS)
    months = dashboard.trend(scope, filters)
    args = {k: v for k, v in request.args.items(multi=False) if v and k not in ("tri",)}
    compare = scope.role == Role.region or filters.region is not None
    here = REGION_NAMES.get(filters.region or scope.region_code or "", _("Your scope"))
    return render_template(
        "monitoring/dashboard.html", form=form, invalid=False, heading=_heading(scope),
        totals=totals, kinds=InvitationKind, steps=_steps, step_names=STEP_NAMES,
        outcome_names=OUTCOME_NAMES, rows=rows, total_rows=total_rows,
        by=by, by_name=BREAKDOWN_NAMES[by], sort=sort, columns=COLUMNS, args=args,
        months=months, compare=compare,
        funnel_chart=_funnel_chart(totals[InvitationKind.end_of_training],
                                   InvitationKind.end_of_training, "funnel-table"),
        follow_up_chart=_funnel_chart(totals[InvitationKind.follow_up],
                                      InvitationKind.follow_up, "follow-up-table"),
        rate_chart=_trend_chart(months, "response_rate", _("Response rate by month of session end"),
                                here if compare else None, "trend-table"),
        satisfaction_chart=_trend_chart(
            months, "satisfied_share",
            _("Satisfied answers (overall mark 4 or 5) by month of session end"),
            here if compare else None, "trend-table"))


def _heading(scope: Scope) -> str:
    if scope.role == Role.admin:
        return _("Every région")
    return REGION_NAMES.get(scope.region_code or "", scope.region_code or "")


def _filters(form: DashboardFilterForm) -> Filters:
    return Filters(
        region=form.region.data or None, campaign=form.campagne.data or None,
        month_from=form.depuis.data, month_to=form.jusqu.data,
        body_id=dashboard.body_id_of(form.siret.data) if form.siret.data else None,
        course_id=dashboard.course_id_of(form.formation.data) if form.formation.data else None,
        departement=form.departement.data or None,
        funder=int(form.financeur.data) if form.financeur.data else None,
        scheme=form.dispositif.data or None)


def _funnel_chart(figures: Figures, kind: InvitationKind, table_id: str) -> Any:
    title = (_("End-of-training questionnaire: the funnel")
             if kind == InvitationKind.end_of_training
             else _("6-month follow-up questionnaire: the funnel"))
    return charts.funnel_bars([(str(STEP_NAMES[s]), figures.counts[s]) for s in _steps(kind)],
                              title, table_id)


def _trend_chart(months: list[dashboard.TrendMonth], figure: str, title: str, here: str | None,
                 table_id: str) -> Any:
    """Lines of the nation and, when ``here`` names it, of the reader's région."""
    series = []
    if here is not None:
        series.append((here, [getattr(m.here, figure) for m in months]))
    series.append((_("Nation"), [getattr(m.nation, figure) for m in months]))
    return charts.trend_lines([m.month.strftime("%Y-%m") for m in months], series, title,
                              table_id)


# --- downloads ---------------------------------------------------------------------------

def _download(scope: Scope, filters: Filters, by: str, sort: str, table: str,
              file_format: str) -> Response:
    header, rows = _table(scope, filters, by, sort, table)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    name = f"tableau-de-bord-{table}-{stamp}.{file_format}"
    if file_format == "csv":
        body: str | bytes = csv_text(header, rows)
        content_type = CSV_TYPE
    else:
        body = xlsx_bytes(header, rows, sheet=table)
        content_type = XLSX_TYPE
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _share(value: float | None) -> float | None:
    """A rate for a spreadsheet: a fraction rounded to 4 places (empty when undefined)."""
    return None if value is None else round(value, 4)


def _table(scope: Scope, filters: Filters, by: str, sort: str, table: str
           ) -> tuple[list[str], Sequence[Sequence[object]]]:
    if table in ("entonnoir", "suivi"):
        kind = InvitationKind.end_of_training if table == "entonnoir" else InvitationKind.follow_up
        figures = dashboard.totals(scope, filters)[kind]
        rows: list[list[object]] = []
        previous = None
        for step in _steps(kind):
            rows.append([str(STEP_NAMES[step]), figures.counts[step],
                         _share(figures.step_rate(step, previous)) if previous else None])
            previous = step
        rows += [[str(name), figures.counts[outcome], None]
                 for outcome, name in OUTCOME_NAMES.items()]
        return [_("Step"), _("Count"), _("Share of the previous step")], rows
    if table == "tendance":
        months = dashboard.trend(scope, filters)
        return ([_("Month of session end"), _("Answered"), _("Response rate"),
                 _("Satisfied share"), _("Answered (nation)"), _("Response rate (nation)"),
                 _("Satisfied share (nation)")],
                [[m.month.strftime("%Y-%m"), m.here.answered, _share(m.here.response_rate),
                  _share(m.here.satisfied_share), m.nation.answered,
                  _share(m.nation.response_rate), _share(m.nation.satisfied_share)]
                 for m in months])
    found, _lines = dashboard.breakdown(scope, filters, by, sort)
    return ([str(BREAKDOWN_NAMES[by]), _("Identifier"), *(str(COLUMNS[c]) for c in
                                                          list(COLUMNS)[1:])],
            [_breakdown_line(row) for row in found])


def _breakdown_line(row: BreakdownRow) -> list[object]:
    end, follow_up = row.end, row.follow_up
    mean = end.mean_overall
    return [row.label, row.detail or (str(row.key) if row.key is not None else None),
            end.enrolled, end.invited, end.bounced, end.answered, _share(end.response_rate),
            None if mean is None else round(mean, 2), _share(end.recommendation_rate),
            _share(follow_up.insertion_rate)]
