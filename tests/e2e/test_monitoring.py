"""Issue 13 in a browser: the demo's Region staff, on a phone, open the dashboard, filter
it by département and funder, download a table as CSV and as XLSX (the two files hold
the same rows), then open the alerts, read the demo's bouncing campaign and acknowledge it.
axe-core, the Content-Security-Policy and no sideways scrolling on every page."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_backoffice import Findings, heading, printed_login, sign_in


def _nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Espace professionnel").get_by_role(
        "link", name=name, exact=True).click()


def _download(page: Any, link: Any) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_region_staff_filter_the_dashboard_download_it_and_open_an_alert(
        page: Any, live_server, demo_logins, authenticator, database) -> None:
    login = printed_login(demo_logins, "region")
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, login, authenticator)

    _nav(page, "Tableau de bord")
    expect(heading(page)).to_contain_text("Tableau de bord")
    expect(page.get_by_text("Taux de réponse").first).to_be_visible()
    findings.check("the dashboard")

    page.get_by_label("Département", exact=True).select_option(label="44 Loire-Atlantique")
    funders = page.get_by_label("Financeur", exact=True)
    funder = funders.locator("option").nth(1).get_attribute("value")
    funders.select_option(value=funder)
    page.get_by_role("button", name="Afficher", exact=True).click()
    expect(page).to_have_url(re.compile(r"departement=44"))
    expect(page).to_have_url(re.compile(rf"financeur={funder}\b"))
    expect(page.get_by_label("Département", exact=True)).to_have_value("44")
    findings.check("the dashboard filtered")

    name, data = _download(page, page.get_by_role("link", name="CSV", exact=True).first)
    assert name.endswith(".csv")
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(table) > 2
    name, data = _download(page, page.get_by_role("link", name="XLSX", exact=True).first)
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [["" if value is None else str(value) for value in row]
             for row in sheet.iter_rows(values_only=True)]
    # The same table: the same header and the same first column, line for line.
    assert cells[0] == table[0]
    assert [row[0] for row in cells] == [row[0] for row in table]

    _nav(page, "Alertes")
    expect(heading(page)).to_have_text("Alertes")
    findings.check("the alerts")
    # The demo's older campaign bounced (its score drop needs the default 3,000 trainees
    # of `make run`; this server has fewer).
    page.get_by_role("link", name=re.compile(r"^Courriels en échec")).first.click()
    expect(heading(page)).to_have_text("Courriels en échec")
    expect(page.get_by_text(re.compile(
        r"Campagne « démo-campagne-1 » : [\d,]+\s% des courriels envoyés"))).to_be_visible()
    findings.check("an alert")

    page.get_by_role("button", name="Prendre en compte l’alerte").click()
    expect(page.get_by_role("alert")).to_contain_text("Écrivez ce qui est fait")
    findings.check("an alert acknowledged without a note")
    page.get_by_label("Ce qui est fait").fill("Appel à l’organisme prévu lundi")
    page.get_by_role("button", name="Prendre en compte l’alerte").click()
    expect(page.get_by_role("status")).to_contain_text("Alerte prise en compte")
    expect(page.get_by_text("Appel à l’organisme prévu lundi")).to_be_visible()
    findings.check("an alert acknowledged")
    with database.engine.connect() as connection:
        note = connection.execute(sa.text(
            "SELECT note FROM alerts WHERE rule = 'bounces'")).scalar_one()
    assert note == "Appel à l’organisme prévu lundi"
    findings.assert_none()
