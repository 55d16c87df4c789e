"""The training body's home and Qualiopi evidence in Chromium: the demo's network account
signs in on a phone, opens its home and its Qualiopi page (axe-core, CSP, no sideways
scroll), then prints the page to an A4 PDF: a sane number of pages, no menu, nothing
wider than the sheet."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_backoffice import (
    Findings,
    heading,
    horizontal_overflow,
    open_page,
    printed_login,
    sign_in,
)

HOME_TITLE = "Votre organisme de formation"
EVIDENCE_LINK = "Preuves Qualiopi : satisfaction et résultats, à imprimer"
EVIDENCE_TITLE = "Preuves Qualiopi : satisfaction et résultats"
#: A4's width less the print stylesheet's margins (210 − 2 × 12 mm), in CSS pixels.
A4_CONTENT_PX = round((210 - 24) / 25.4 * 96)


def test_a_body_opens_its_home_and_prints_its_qualiopi_evidence(new_page, live_server,
                                                                 demo_logins, authenticator):
    login = printed_login(demo_logins, "network")
    page = new_page()
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, login, authenticator)

    open_page(page, "/admin/mon-organisme", HOME_TITLE)
    findings.check("the body's home")
    # A network: the switcher lists its establishments; the second one opens.
    options = page.get_by_label("Établissement", exact=True).locator("option")
    assert options.count() > 1
    second = options.nth(1).get_attribute("value")
    page.get_by_label("Établissement", exact=True).select_option(second)
    page.get_by_role("button", name="Afficher cet établissement").click()
    expect(page).to_have_url(re.compile(rf"siret={second}"))
    expect(page.locator(".lead")).to_contain_text(second)
    findings.check("the body's home, second establishment")
    # A SIRET of nobody's: not found.
    assert page.request.get(f"{live_server.url}/admin/mon-organisme?siret=99999999999999"
                            ).status == 404

    page.get_by_role("link", name=EVIDENCE_LINK).click()
    expect(heading(page)).to_have_text(EVIDENCE_TITLE)
    expect(page.get_by_label("Code à coller")).to_have_attribute("readonly", "")
    expect(page.get_by_label("Code à coller")).to_contain_text("widget.js")
    findings.check("the Qualiopi page")
    workbook = page.request.get(page.get_by_role(
        "link", name="Télécharger ces chiffres (XLSX)").get_attribute("href"))
    assert workbook.status == 200
    assert workbook.body()[:2] == b"PK"
    findings.assert_none()

    # Printed: on a desktop browser, as the print stylesheet lays it out.
    desk = new_page(width=1200, height=900, mobile=False)
    desk.goto("/login")
    sign_in(desk, login, authenticator)
    open_page(desk, page.url.removeprefix(live_server.url), EVIDENCE_TITLE)
    desk.emulate_media(media="print")
    expect(desk.get_by_role("navigation", name="Espace professionnel")).to_be_hidden()
    expect(desk.get_by_label("Code à coller")).to_be_hidden()
    desk.set_viewport_size({"width": A4_CONTENT_PX, "height": 1100})
    assert horizontal_overflow(desk) is None
    wide_tables = desk.evaluate("""() => Array.from(document.querySelectorAll("table"))
        .filter((t) => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((t) => t.querySelector("caption")?.textContent)""")
    assert wide_tables == []
    pdf = desk.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert 1 <= pages <= 8, f"{pages} A4 pages"
