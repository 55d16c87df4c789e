"""An access and erasure request handled by the demo admin in a browser: the address
typed in « Données personnelles », what avis holds shown and downloaded as JSON, the
erasure confirmed, the address then re-admitted. axe-core, CSP and no sideways
scrolling on every page; the database checked at each step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, SurveyEmail
from tests.e2e.test_backoffice import Findings, heading, menu, printed_login, sign_in


def identity(live_server: LiveServer, email: str) -> int:
    """How many trainees have this address."""
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(
                "SELECT count(*) FROM trainees WHERE email = :email"), {"email": email})
    finally:
        engine.dispose()


def erasures(live_server: LiveServer) -> list[tuple[str, bool]]:
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            return [(row.reason, row.readmitted_dt is not None) for row in connection.execute(
                sa.text("SELECT reason, readmitted_dt FROM erased_addresses ORDER BY id"))]
    finally:
        engine.dispose()


def look_up(page: Any, email: str) -> None:
    page.get_by_label("Adresse e-mail de la personne").fill(email)
    page.get_by_role("button", name="Afficher les données détenues").click()
    expect(page.get_by_role("heading", name="Ce que détient avis")).to_be_visible()


def test_admin_exports_erases_and_readmits_an_address(new_page, live_server: LiveServer,
                                                      demo_logins, authenticator,
                                                      another_survey_email: SurveyEmail
                                                      ) -> None:
    email = another_survey_email.recipient
    before = erasures(live_server)
    page: Any = new_page(width=1280, height=900, mobile=False)
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, printed_login(demo_logins, "admin"), authenticator)
    menu(page).filter(has_text="Données personnelles").click()
    expect(heading(page)).to_have_text("Données personnelles")
    findings.check("the empty screen")

    look_up(page, email)
    expect(page.locator("pre.export")).to_contain_text(
        f"Données personnelles détenues par avis sur {email}")
    expect(page.locator("pre.export")).to_contain_text("Vos réponses aux questionnaires")
    findings.check("what is held")
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger en JSON").click()
    data = json.loads(Path(info.value.path()).read_text())
    assert (data["email"], data["found"]) == (email, True)
    assert data["enrolments"]
    assert data["enrolments"][0]["invitations"]

    page.get_by_role("button", name="Effacer…").click()
    expect(page.get_by_role("heading", name="Effacer l’identité de cette personne ?")) \
        .to_be_visible()
    findings.check("the confirmation")
    assert identity(live_server, email) == 1, "asking for confirmation erased already"
    page.get_by_role("button", name="Effacer définitivement").click()
    expect(page.get_by_role("status")).to_contain_text("L’identité de la personne est effacée")
    assert identity(live_server, email) == 0
    assert erasures(live_server) == [*before, ("request", False)]
    findings.check("the receipt")

    look_up(page, email)
    expect(page.locator("pre.export")).to_contain_text("Aucun stagiaire n’a cette adresse.")
    page.get_by_role("button", name="Réadmettre l’adresse").click()
    expect(page.get_by_role("status")).to_contain_text("Adresse réadmise")
    assert erasures(live_server) == [*before, ("request", True)]
    findings.check("the re-admission")

    # On a phone too.
    phone: Any = new_page()
    phone_findings = Findings(phone)
    phone.context.add_cookies(page.context.cookies())
    phone.goto("/admin/donnees-personnelles")
    expect(heading(phone)).to_have_text("Données personnelles")
    look_up(phone, email)
    phone_findings.check("what is held, on a phone")
    findings.assert_none()
    phone_findings.assert_none()
