"""Issue 14 in a browser: the demo's training body (all its establishments), on a phone,
invites a colleague for one establishment, then tries an address that already has an
account and reads why it is refused. axe-core, the Content-Security-Policy and no
sideways scrolling on every page."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.test_backoffice import Findings, heading, printed_login, sign_in

COLLEAGUE = "nouvelle.collegue@demo.avis.example"


def test_the_demo_body_invites_a_colleague(page: Any, live_server, demo_logins, authenticator,
                                           database) -> None:
    login = printed_login(demo_logins, "network")
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, login, authenticator)
    try:
        page.goto("/admin/mon-organisme/collegues")
        expect(heading(page)).to_have_text("Collègues")
        expect(page.get_by_role("cell", name=f"{login.email} (vous)")).to_be_visible()
        findings.check("the colleagues")

        page.get_by_label("Adresse électronique de votre collègue").fill(COLLEAGUE)
        page.get_by_label("Nom (facultatif)").fill("Camille")
        access = page.get_by_label("Accès à")
        establishment = access.locator("option").nth(1).get_attribute("value")
        access.select_option(value=establishment)
        page.get_by_role("button", name="Inviter", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(f"{COLLEAGUE} est invité")
        row = page.get_by_role("row").filter(has_text=COLLEAGUE)
        expect(row).to_contain_text(f"SIRET {establishment}")
        expect(row).to_contain_text("Invité")
        findings.check("a colleague invited")

        # The single establishment's demo account is another body's: its address is taken.
        page.get_by_label("Adresse électronique de votre collègue").fill(
            "organisme@demo.avis.example")
        page.get_by_role("button", name="Inviter", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text(
            "Un compte utilise déjà cette adresse électronique")
        findings.check("an address already taken")

        with database.engine.connect() as connection:
            invited = connection.execute(sa.text(
                "SELECT a.status, a.siret, m.kind FROM accounts a "
                "JOIN account_messages m ON m.account_id = a.id WHERE a.email = :email"),
                {"email": COLLEAGUE}).one()
        assert tuple(invited) == ("invited", establishment, "activation")
        findings.assert_none()
    finally:
        # The demo is shared by every browser test: leave it as it was.
        # (Explicitly: a SQLite connection of our own does not enforce the cascades.)
        with database.engine.begin() as connection:
            for table in ("account_messages", "account_tokens"):
                connection.execute(sa.text(
                    f"DELETE FROM {table} WHERE account_id IN "
                    "(SELECT id FROM accounts WHERE email = :email)"), {"email": COLLEAGUE})
            connection.execute(sa.text("DELETE FROM accounts WHERE email = :email"),
                               {"email": COLLEAGUE})


def test_the_demo_body_chooses_its_emails(page: Any, live_server, demo_logins, authenticator,
                                          database) -> None:
    login = printed_login(demo_logins, "establishment")
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, login, authenticator)
    try:
        page.goto("/admin/mon-organisme/notifications")
        expect(heading(page)).to_have_text("Notifications par courriel")
        replies = page.get_by_label("Un modérateur a publié ou refusé une de vos réponses")
        expect(replies).to_be_checked()
        findings.check("the email preferences")
        replies.uncheck()
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Vos choix sont enregistrés.")
        expect(replies).not_to_be_checked()
        expect(page.get_by_label(re.compile(r"^Nouveaux avis : un courriel au plus tous les 7 "
                                            r"jours"))).to_be_checked()
        findings.check("the email preferences saved")
        with database.engine.connect() as connection:
            topics = connection.execute(sa.text(
                "SELECT o.topic FROM body_notification_opt_outs o JOIN accounts a "
                "ON a.id = o.account_id WHERE a.email = :email"),
                {"email": login.email}).scalars().all()
        assert topics == ["reply_decisions"]
        findings.assert_none()
    finally:
        with database.engine.begin() as connection:
            connection.execute(sa.text(
                "DELETE FROM body_notification_opt_outs WHERE account_id IN "
                "(SELECT id FROM accounts WHERE email = :email)"), {"email": login.email})
