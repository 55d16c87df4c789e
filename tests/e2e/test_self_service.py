"""A former trainee downloads, then erases their data on a phone, from a demo survey
email to the receipt;
and reads the privacy notice from the footer. axe-core, CSP and 375 px on every page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from avis.surveys import tokens
from tests.e2e.conftest import LiveServer, SurveyEmail
from tests.e2e.test_backoffice import Findings


def trainee_row(live_server: LiveServer, trainee_id: int) -> dict[str, Any]:
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(sa.text(
                "SELECT email, first_name, last_name FROM trainees WHERE id = :id"),
                {"id": trainee_id}).mappings().one())
    finally:
        engine.dispose()


def trainee_id_of(live_server: LiveServer, token: str) -> int:
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(
                "SELECT e.trainee_id FROM invitation_tokens t "
                "JOIN invitations i ON i.id = t.invitation_id "
                "JOIN enrolments e ON e.id = i.enrolment_id WHERE t.digest = :digest"),
                {"digest": tokens.digest(token)})
    finally:
        engine.dispose()


def test_trainee_erases_their_data_from_the_email(new_page, page, live_server: LiveServer,
                                                  survey_email: SurveyEmail) -> None:
    erase_url = f"{survey_email.unsubscribe_url}/supprimer"
    trainee_id = trainee_id_of(live_server, survey_email.token)
    assert trainee_row(live_server, trainee_id)["email"] == survey_email.recipient
    # Both parts of the email carry the link.
    assert f"Supprimer mes données : {erase_url}" in survey_email.text
    desk = new_page(width=1280, height=800, mobile=False)
    desk.goto(f"/dev/mailbox/{survey_email.name}")
    html_part = desk.get_by_title("Partie HTML").content_frame
    expect(html_part.get_by_role("link", name="Supprimer mes données")).to_have_attribute(
        "href", erase_url)
    expect(html_part.get_by_role("link", name="Confidentialité")).to_have_attribute(
        "href", f"{live_server.url}/confidentialite")

    findings = Findings(page)
    # On the phone: the unsubscribe link of the email, then "Supprimer mes données".
    page.goto(survey_email.unsubscribe_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Se désinscrire")
    page.get_by_role("link", name="Supprimer mes données").click()
    expect(page).to_have_url(erase_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer mes données")
    findings.check("the confirmation page")
    # Opening the page erased nothing.
    assert trainee_row(live_server, trainee_id)["email"] == survey_email.recipient

    # First, a copy of what avis holds.
    page.get_by_role("link", name="Télécharger d’abord mes données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    findings.check("the access page")
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger en JSON").click()
    data = json.loads(Path(info.value.path()).read_text())
    assert (data["email"], data["found"]) == (survey_email.recipient, True)
    assert data["trainee"]["last_name"] == trainee_row(live_server, trainee_id)["last_name"]
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger en texte").click()
    assert f"Données personnelles détenues par avis sur {survey_email.recipient}" in \
        Path(info.value.path()).read_text()
    page.go_back()
    expect(page).to_have_url(erase_url)

    page.get_by_role("button", name="Supprimer mes données").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos données sont effacées")
    expect(page.get_by_role("main")).to_contain_text("elle ne reviendra pas")
    findings.check("the receipt")
    assert trainee_row(live_server, trainee_id) == {"email": None, "first_name": None,
                                                     "last_name": None}

    findings.assert_none()

    # The email's links lead nowhere now (a 404: Chromium logs it in the console).
    assert page.goto(erase_url).status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien ne fonctionne pas")

    # The token never reached the server's access log, the erasure's path did.
    log = (live_server.instance.parent / "server.log").read_text()
    assert "/unsubscribe/…/supprimer" in log
    assert survey_email.token not in log


def test_privacy_notice_from_the_footer_in_both_languages(page, live_server) -> None:
    findings = Findings(page)
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Confidentialité").click()

    expect(page).to_have_url(f"{live_server.url}/confidentialite")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confidentialité : ce qu’avis fait de vos données")
    expect(page.get_by_role("link", name="https://www.cnil.fr/fr/plaintes")).to_be_visible()
    findings.check("the notice")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Privacy: what avis does with your data")
    findings.check("the notice in English")
    findings.assert_none()
