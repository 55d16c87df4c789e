"""The dashboard: figures equal to pandas counting the raw rows, filters that combine,
scope (région and funders), downloads and escaping."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from flask import Flask
from openpyxl import load_workbook

from avis import clock
from avis.accounts.models import Role
from avis.accounts.scope import Scope
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring import dashboard
from avis.monitoring.dashboard import Filters
from avis.monitoring.funnel import COUNTS, rebuild
from avis.surveys.models.invitations import InvitationKind
from tests.accounts.fixtures import Browser
from tests.catalog.fixtures import make_siret
from tests.monitoring.funnel_data import CAMPAIGNS, PLACES, World, expected_rows

END = InvitationKind.end_of_training.value
#: Names only one body has, some with characters HTML and spreadsheets treat specially.
PARIS_ONLY = "Faubourg Saint-Antoine Savoirs"
NAMES = ["Atelier <b>Loire</b> & Fils", "=Formations Hypothétiques", "Institut Castignac",
         "Centre Ouessant Métiers", "Organisme Quimperlé", "Lycée Tréguier Pro",
         "Académie Brocéliande"]


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        built = World(random.Random(52), bodies=len(NAMES), sessions=40, names=NAMES)
        # A body teaching in région 11 only.
        paris = TrainingBody(siret=make_siret(99_110_011), siren=make_siret(99_110_011)[:9],
                             name=PARIS_ONLY)
        db.session.add(paris)
        db.session.flush()
        built.bodies.append(paris)
        for _ in range(3):
            built.fill(built.add_session(paris, PLACES[3]), 6)
        db.session.commit()
        rebuild()
        return built


def scope_of(role: Role, region: str | None = None, funders: tuple[int, ...] = ()) -> Scope:
    return Scope(role=role, account_id=0, region_code=region, funder_codes=funders)


def expected(scope: Scope, filters: Filters, *, national: bool = False) -> pd.DataFrame:
    """The raw-row sums (``expected_rows``) that ``scope`` and ``filters`` keep."""
    rows = expected_rows()
    keep = pd.Series(True, index=rows.index)
    if scope.role == Role.region and not national:
        keep &= rows["region_code"] == scope.region_code
        if scope.funder_codes:
            keep &= rows["funders"].map(lambda codes: bool(set(codes) & set(scope.funder_codes)))
    f = filters
    if f.campaign is not None:
        keep &= rows["campaign"] == f.campaign
    if f.month_from is not None:
        keep &= rows["end_month"] >= f.month_from
    if f.month_to is not None:
        keep &= rows["end_month"] <= f.month_to
    if f.funder is not None:
        keep &= rows["funders"].map(lambda codes: f.funder in codes)
    if f.scheme is not None:
        keep &= rows["funding_scheme"] == f.scheme
    if not national:
        for name, column in (("region", "region_code"), ("body_id", "training_body_id"),
                             ("course_id", "course_id"), ("departement", "departement")):
            if getattr(f, name) is not None:
                keep &= rows[column] == getattr(f, name)
    return rows[keep]


def sums(rows: pd.DataFrame, kind: str = END) -> dict[str, int]:
    of_kind = rows[rows["kind"] == kind]
    return {name: int(of_kind[name].sum()) for name in COUNTS}


def random_filters(rng: random.Random, world: World) -> Filters:
    today = clock.today().replace(day=1)
    month = today - dt.timedelta(days=rng.randint(30, 300))
    return Filters(
        campaign=rng.choice([None, *CAMPAIGNS]),
        month_from=rng.choice([None, month.replace(day=1)]),
        month_to=rng.choice([None, today]),
        body_id=rng.choice([None, None, rng.choice(world.bodies).id]),
        course_id=rng.choice([None, None, rng.choice(world.courses).id]),
        departement=rng.choice([None, None, "44", "49"]),
        funder=rng.choice([None, 2, 4, 10]),
        scheme=rng.choice([None, "AIF", "PRF"]))


SCOPES = [scope_of(Role.admin), scope_of(Role.region, "52"), scope_of(Role.region, "11"),
          scope_of(Role.region, "52", (4,)), scope_of(Role.region, "52", (2, 10))]


def test_totals_match_pandas_under_combined_filters(app: Flask, world: World) -> None:
    rng = random.Random(5)
    with app.app_context():
        nonempty = 0
        for _ in range(40):
            scope, filters = rng.choice(SCOPES), random_filters(rng, world)
            totals = dashboard.totals(scope, filters)
            rows = expected(scope, filters)
            for kind in InvitationKind:
                assert totals[kind].counts == sums(rows, kind.value), (scope, filters, kind)
            nonempty += bool(totals[InvitationKind.end_of_training].enrolled)
        assert nonempty >= 10  # the filters did not all come up empty


@pytest.mark.parametrize("by", dashboard.BREAKDOWNS)
def test_every_breakdown_matches_pandas(app: Flask, world: World, by: str) -> None:
    column = {"organisme": "training_body_id", "formation": "course_id", "mois": "end_month",
              "campagne": "campaign", "departement": "departement",
              "dispositif": "funding_scheme"}.get(by)
    # A campaign's lines (read from the session or the month rows), and every month's,
    # the nation's, a région's or a département's (by body, course or département: read
    # from the per-body and per-course rows, unless the account is limited to funders).
    cases = [(scope, filters) for scope in SCOPES for filters in (
        Filters(campaign=CAMPAIGNS[0]) if by != "campagne" else Filters(), Filters(),
        Filters(departement="44"))]
    cases.append((scope_of(Role.admin), Filters(region="11")))
    with app.app_context():
        for scope, filters in cases:
            rows = expected(scope, filters)
            lines, count = dashboard.breakdown(scope, filters, by)
            assert count == len(lines)
            found = {line.key: line for line in lines}
            if by == "financeur":
                codes = {c for codes in rows["funders"] for c in codes}
                if scope.funder_codes:
                    codes &= set(scope.funder_codes)
                wanted = {code: rows[rows["funders"].map(lambda cs, c=code: c in cs)]
                          for code in codes}
                if not scope.funder_codes and (rows["funders"].map(len) == 0).any():
                    wanted[None] = rows[rows["funders"].map(len) == 0]  # no funder given
            else:
                assert column is not None
                keys = [None if v == "" else v for v in rows[column]]
                wanted = {key: rows[[k == key for k in keys]] for key in set(keys)}
            assert set(found) == set(wanted), (scope, by)
            shown = dashboard.LINE_COUNTS
            for key, part in wanted.items():
                end, later = sums(part, END), sums(part, "follow_up")
                line = found[key]
                assert {c: line.end.counts[c] for c in shown[END]} == {
                    c: end[c] for c in shown[END]}, (scope, by, key)
                assert {c: line.follow_up.counts[c] for c in shown["follow_up"]} == {
                    c: later[c] for c in shown["follow_up"]}, (scope, by, key)
            totals = dashboard.totals(scope, filters)
            for kind in InvitationKind:
                assert totals[kind].counts == sums(rows, kind.value), (scope, filters, kind)


def test_each_page_reads_the_smallest_table_that_answers() -> None:
    region, limited = scope_of(Role.region, "52"), scope_of(Role.region, "52", (4,))
    source = dashboard.source
    assert source(region, Filters()) is dashboard.MONTHS
    assert source(region, Filters(), "organisme") is dashboard.BODIES
    assert source(region, Filters(departement="44"), "organisme") is dashboard.BODIES
    assert source(region, Filters(departement="44")) is dashboard.COURSES
    assert source(region, Filters(), "formation") is dashboard.COURSES
    assert source(region, Filters(body_id=3), "formation") is dashboard.FINE
    assert source(region, Filters(departement="44"), "mois") is dashboard.FINE
    assert source(region, Filters(campaign="x"), "organisme") is dashboard.FINE
    assert source(limited, Filters(), "organisme") is dashboard.FINE
    assert source(limited, Filters()) is dashboard.MONTHS
    assert source(scope_of(Role.admin), Filters(region="11"), "departement") is dashboard.COURSES


def test_breakdown_sorts_and_cuts(app: Flask, world: World) -> None:
    with app.app_context():
        scope = scope_of(Role.admin)
        lines, count = dashboard.breakdown(scope, Filters(), "organisme", "reponses")
        answered = [line.end.answered for line in lines]
        assert answered == sorted(answered, reverse=True)
        assert count == len(lines) == len(NAMES) + 1
        first, same = dashboard.breakdown(scope, Filters(), "organisme", "reponses", 3)
        assert (len(first), same) == (3, count)
        assert [line.key for line in first] == [line.key for line in lines[:3]]
        # Cut anywhere, ties and undefined figures included, the first lines are those of
        # the whole list (the database labels only the lines that can be first).
        for by in ("organisme", "formation"):
            for sort in dashboard.SORTS:
                whole, total = dashboard.breakdown(scope, Filters(), by, sort)
                for cut in (1, 2, 3, 5):
                    part, same = dashboard.breakdown(scope, Filters(), by, sort, cut)
                    assert same == total
                    assert [(line.key, line.label) for line in part] == [
                        (line.key, line.label) for line in whole[:cut]], (by, sort, cut)
        months = [line.label for line in
                  dashboard.breakdown(scope, Filters(), "mois", "libelle")[0]]
        assert months == sorted(months)
        for sort in ("taux", "satisfaction", "recommandation", "insertion"):
            for by in ("organisme", "financeur"):
                lines, _count = dashboard.breakdown(scope, Filters(), by, sort)
                values = [dashboard._VALUES[sort](line) for line in lines]
                present = [v for v in values if v is not None]
                assert present == sorted(present, reverse=True), (by, sort)
                assert values[:len(present)] == present  # undefined figures last


def test_trend_matches_pandas_here_and_in_the_nation(app: Flask, world: World) -> None:
    with app.app_context():
        scope, filters = scope_of(Role.region, "52"), Filters(funder=2)
        months = dashboard.trend(scope, filters)
        assert len(months) == 12
        here, nation = expected(scope, filters), expected(scope, filters, national=True)
        for m in months:
            assert m.here.counts == sums(here[here["end_month"] == m.month]), m.month
            assert m.nation.counts == sums(nation[nation["end_month"] == m.month]), m.month
        assert sum(m.nation.enrolled for m in months) > sum(m.here.enrolled for m in months)


# --- the page ----------------------------------------------------------------------------

def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _xlsx(response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    assert "spreadsheetml" in response.content_type
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_region_staff_see_their_region_only(app: Flask, world: World,
                                            signed_in: Callable[..., Browser]) -> None:
    with app.app_context():
        rows = expected_rows()
        by_region = {region: {body.name for body in world.bodies
                              if body.id in set(rows[rows["region_code"] == region]
                                                ["training_body_id"])}
                     for region in ("52", "11")}
    only_11 = by_region["11"] - by_region["52"]
    assert only_11, "the world needs a body teaching in région 11 only"
    client = signed_in(Role.region, region="52")
    page = client.get("/admin/tableau-de-bord?par=organisme")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    everything = [html]
    for by in dashboard.BREAKDOWNS:
        everything.append(client.get(f"/admin/tableau-de-bord?par={by}").get_data(as_text=True))
        everything.append(client.get(
            f"/admin/tableau-de-bord?par={by}&tableau=repartition&format=csv"
        ).get_data(as_text=True))
    # A SIRET of région 11 typed in: nothing of it comes back.
    foreign = next(body for body in world.bodies if body.name == PARIS_ONLY)
    everything.append(client.get(f"/admin/tableau-de-bord?siret={foreign.siret}"
                                 "&tableau=repartition&format=csv").get_data(as_text=True))
    text = "\n".join(everything)
    for name in only_11:
        assert name not in text
        assert name.replace("&", "&amp;") not in text
    assert "Paris" not in text  # the département of région 11 (75 Paris)
    assert any(name.split()[0] in html for name in by_region["52"])


def test_funder_limited_staff_see_their_funders_only(app: Flask, world: World,
                                                     signed_in: Callable[..., Browser]) -> None:
    client = signed_in(Role.region, region="52", funders=(4,))
    with app.app_context():
        wanted = sums(expected(scope_of(Role.region, "52", (4,)), Filters()))
        everyone = sums(expected(scope_of(Role.region, "52"), Filters()))
    assert wanted["enrolled"] < everyone["enrolled"]
    table = _csv(client.get("/admin/tableau-de-bord?tableau=entonnoir&format=csv"))
    counts = {line[0]: int(line[1]) for line in table[1:]}
    assert counts["Importés"] == wanted["enrolled"]
    assert counts["Ont répondu"] == wanted["answered"]
    funders = _csv(client.get("/admin/tableau-de-bord?par=financeur&tableau=repartition"
                              "&format=csv"))
    assert [line[1] for line in funders[1:]] == ["4"]
    page = client.get("/admin/tableau-de-bord").get_data(as_text=True)
    assert '<option value="2">' not in page
    assert '<option value="4">' in page


def test_filters_combine_in_the_downloads(app: Flask, world: World,
                                          signed_in: Callable[..., Browser]) -> None:
    client = signed_in(Role.admin)
    month = clock.today().replace(day=1)
    start = (month - dt.timedelta(days=200)).replace(day=1)
    query = (f"campagne={CAMPAIGNS[0]}&departement=44&financeur=2&dispositif=AIF"
             f"&depuis={start:%Y-%m}&jusqu={month:%Y-%m}")
    with app.app_context():
        filters = Filters(campaign=CAMPAIGNS[0], departement="44", funder=2, scheme="AIF",
                          month_from=start, month_to=month)
        wanted = sums(expected(scope_of(Role.admin), filters))
        follow_up = sums(expected(scope_of(Role.admin), filters), "follow_up")
    table = _csv(client.get(f"/admin/tableau-de-bord?{query}&tableau=entonnoir&format=csv"))
    assert table[0] == ["Étape", "Nombre", "Part de l’étape précédente"]
    counts = {line[0]: int(line[1]) for line in table[1:]}
    assert counts["Importés"] == wanted["enrolled"]
    assert counts["Invitations créées"] == wanted["invited"]
    assert counts["Rebonds"] == wanted["bounced"]
    sheet = _xlsx(client.get(f"/admin/tableau-de-bord?{query}&tableau=suivi&format=xlsx"))
    assert {row[0]: row[1] for row in sheet[1:]}["Ont répondu"] == follow_up["answered"]
    by_body = _csv(client.get(f"/admin/tableau-de-bord?{query}&par=organisme"
                              "&tableau=repartition&format=csv"))
    assert sum(int(line[2]) for line in by_body[1:]) == wanted["enrolled"]


def test_names_are_escaped_and_neutralised(app: Flask, world: World,
                                           signed_in: Callable[..., Browser]) -> None:
    client = signed_in(Role.admin)
    html = client.get("/admin/tableau-de-bord?par=organisme").get_data(as_text=True)
    assert "<b>Loire</b>" not in html
    assert "Atelier &lt;b&gt;Loire&lt;/b&gt; &amp; Fils" in html
    table = _csv(client.get("/admin/tableau-de-bord?par=organisme&tableau=repartition"
                            "&format=csv"))
    names = [line[0] for line in table[1:]]
    assert "'=Formations Hypothétiques" in names
    assert "Atelier <b>Loire</b> & Fils" in names
    sheet = _xlsx(client.get("/admin/tableau-de-bord?par=organisme&tableau=repartition"
                             "&format=xlsx"))
    assert "'=Formations Hypothétiques" in [row[0] for row in sheet[1:]]


def test_page_shows_funnel_charts_and_sort_links(app: Flask, world: World,
                                                 signed_in: Callable[..., Browser]) -> None:
    client = signed_in(Role.region, region="52")
    html = client.get("/admin/tableau-de-bord?par=departement&tri=reponses"
                      ).get_data(as_text=True)
    assert html.count('role="img"') == 4
    assert 'aria-describedby="funnel-table"' in html
    assert 'id="funnel-table"' in html
    assert 'aria-describedby="trend-table"' in html
    assert "<title id=" in html
    assert 'aria-sort="descending"' in html
    assert "tri=taux" in html
    assert "par=departement" in html
    assert ">Pays de la Loire</text>" in html
    assert ">France entière</text>" in html


def test_bad_filters_are_refused_in_french(app: Flask, world: World,
                                           signed_in: Callable[..., Browser]) -> None:
    client = signed_in(Role.region, region="52")
    response = client.get("/admin/tableau-de-bord?depuis=2026-05&jusqu=2026-01&siret=12")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Un SIRET compte 14 chiffres." in html
    assert "Le dernier mois précède le premier." in html
    assert client.get("/admin/tableau-de-bord?departement=75").status_code == 400
    assert client.get("/admin/tableau-de-bord?tableau=entonnoir&format=pdf").status_code == 404


@pytest.mark.parametrize("role", [Role.moderator, Role.organisation])
def test_other_roles_are_refused(app: Flask, world: World, role: Role,
                                 signed_in: Callable[..., Browser]) -> None:
    options: dict[str, Any] = {"region": "52"} if role == Role.moderator else {
        "siret": world.bodies[0].siret}
    client = signed_in(role, **options)
    assert client.get("/admin/tableau-de-bord").status_code == 403
