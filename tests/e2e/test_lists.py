"""The lists in a browser: the demo admin lets the demo's Region staff read names and
emails; on a phone, Region staff open « Listes », show the names, download them as CSV
and as Excel (the files' contents checked), each download journaled; axe-core and no
sideways scrolling on every page; the admin then takes the permission back."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_backoffice import (
    Findings,
    heading,
    menu,
    printed_login,
    sign_in,
    sign_out,
)

TEXTS = {
    "lists": "Listes",
    "non_respondents": "Non-répondants",
    "bounced": "Adresses en échec",
    "grant": "Lui permettre de lire les noms et adresses",
    "granted": "Le compte peut désormais lire les noms et adresses",
    "remove": "Retirer la lecture des noms et adresses",
    "show": "Afficher les noms et adresses de ces personnes",
    "csv": "Télécharger ces personnes (CSV)",
    "xlsx": "Télécharger ces personnes (Excel)",
    "counts_csv": "Télécharger ces effectifs (CSV)",
}
HEADER = ["nom", "prenom", "email", "statut", "premier_envoi", "campagne", "organisme",
          "siret", "session", "fin_de_session"]


def _admin_sets_permission(page: Any, email: str, button: str) -> None:
    page.goto(f"/admin/comptes?q={email}")
    page.get_by_role("link", name=email, exact=True).click()
    expect(heading(page)).to_have_text(email)
    page.get_by_role("button", name=button).click()
    expect(heading(page)).to_have_text(email)


def _total(page: Any) -> int:
    text = page.locator(".list-total").inner_text()
    return int(re.sub(r"\D", "", text.split(" personne")[0]))


def _download(page: Any, link: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    download = info.value
    return Path(download.path()).read_bytes()


def test_region_staff_download_names_once_an_admin_allowed_it(new_page, live_server,
                                                               demo_logins, authenticator,
                                                               database):
    admin_login = printed_login(demo_logins, "admin")
    region_login = printed_login(demo_logins, "region")
    admin = new_page(width=1280, height=900, mobile=False)
    admin.goto("/login")
    sign_in(admin, admin_login, authenticator)
    _admin_sets_permission(admin, region_login.email, TEXTS["grant"])
    expect(admin.get_by_role("status")).to_contain_text(TEXTS["granted"])
    try:
        page = new_page()  # a phone
        findings = Findings(page)
        page.goto("/login")
        sign_in(page, region_login, authenticator)
        menu(page).filter(has_text=TEXTS["lists"]).click()
        expect(heading(page)).to_have_text(TEXTS["non_respondents"])
        expect(menu(page).filter(has_text=TEXTS["lists"])).to_have_attribute(
            "aria-current", "page")
        findings.check("the non-respondents, counted")
        total = _total(page)
        assert total > 0, "the demo has no non-respondent in région 52"

        counts = _download(page, TEXTS["counts_csv"]).decode("utf-8-sig")
        assert "@" not in counts
        assert sum(int(row[-1]) for row in list(csv.reader(io.StringIO(counts),
                                                          delimiter=";"))[1:]) == total

        page.get_by_role("link", name=TEXTS["show"]).click()
        expect(page.get_by_role("region", name=re.compile("^Personnes de la liste"))
               ).to_be_visible()
        findings.check("the non-respondents, by name")
        shown = page.locator("table tbody tr").count()
        assert shown == min(total, 50)

        data = _download(page, TEXTS["csv"])
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
        assert rows[0] == HEADER
        assert len(rows) == total + 1
        assert all("@" in row[2] for row in rows[1:])

        workbook = openpyxl.load_workbook(io.BytesIO(_download(page, TEXTS["xlsx"])))
        table = [[cell.value for cell in row] for row in workbook.active.iter_rows()]
        assert table[0] == HEADER
        assert sorted(row[2] for row in table[1:]) == sorted(row[2] for row in rows[1:])

        with database.engine.connect() as connection:
            exported = connection.execute(sa.text(
                "SELECT changes FROM audit_events WHERE action = 'list.exported' "
                "ORDER BY id")).scalars().all()
        people = [(c if isinstance(c, dict) else json.loads(c))["people"] for c in exported]
        assert people[-2:] == [total, total]

        page.get_by_role("navigation", name=TEXTS["lists"]).get_by_role(
            "link", name=TEXTS["bounced"]).click()
        expect(heading(page)).to_have_text(TEXTS["bounced"])
        findings.check("the bounced addresses")
        page.goto("/admin/listes/non-repondants?par=session")
        findings.check("the non-respondents by session")
        sign_out(page, live_server)
        findings.assert_none()
    finally:
        _admin_sets_permission(admin, region_login.email, TEXTS["remove"])
        sign_out(admin, live_server)
