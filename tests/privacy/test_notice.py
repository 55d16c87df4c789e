"""``/confidentialite``: the privacy notice (GDPR art. 13), from the settings, in both
languages, linked from every page's footer and every email."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from avis import create_app
from avis.accounts.mail import render as render_account_mail
from avis.accounts.models import AccountMail
from avis.db import db
from avis.mail import render
from avis.mail.message import personalize
from tests.conftest import CHEAP_ARGON2

CNIL = "https://www.cnil.fr/fr/plaintes"


def text_of(page: str) -> str:
    """The page's words, tags removed and entities decoded, spaces collapsed."""
    words = html_lib.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"\s+", " ", words)


@pytest.fixture
def app_with(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``app_with(**settings)``: an application with these settings (same database)."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        instance = tmp_path / f"instance{len(made)}"
        instance.mkdir()
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                          "PAGE_CACHE_SECONDS": 0, **CHEAP_ARGON2, **settings},
                         instance_path=instance)
        app.testing = True
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_french_by_default_with_every_part_of_article_13(client) -> None:
    response = client.get("/confidentialite")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    page = text_of(response.get_data(as_text=True))
    assert "Confidentialité : ce qu’avis fait de vos données" in page
    # Controller (the default of the settings), and how to reach it without a DPO.
    assert "Responsable du traitement : La Région, commanditaire de l’enquête" in page
    assert "Délégué à la protection des données :" not in page
    assert "site internet" in page
    # Purposes, legal basis, data, recipients.
    assert "Vous demander, par courriel, votre avis" in page
    assert "mission d’intérêt public (article 6, paragraphe 1, point e, du RGPD)" in page
    assert "vos nom et prénom, vos numéros de téléphone" in page
    assert "Vos réponses au questionnaire sont anonymes" in page
    assert "Les organismes de formation ne voient que les avis anonymes" in page
    # The default backend is the file mailbox: the processor is named generically.
    assert "SendGrid" not in page
    assert "prestataire d’envoi, sous-traitant" in page
    # Retention, from the default settings.
    assert "vos inscriptions : 24 mois après la fin de votre dernière formation" in page
    assert "questionnaire : valable 90 jours." in page
    assert "Les courriels qui vous ont été envoyés : 90 jours après" in page
    assert "prestataire d’envoi : 90 jours." in page
    assert "par les financeurs : 30 jours après leur import." in page
    assert "journal d’activité des agents : 24 mois." in page
    assert "Les commentaires publiés : 24 mois, puis retirés du site." in page
    # Rights, how to use them, the CNIL.
    for right in ("accéder", "rectifier", "effacer", "vous opposer", "limitation"):
        assert right in page
    assert "« Supprimer mes données »" in page
    assert f'href="{CNIL}"' in response.get_data(as_text=True)


def test_english_on_request(client) -> None:
    response = client.get("/confidentialite?lang=en")

    assert response.status_code == 200
    # The page sets the language cookie: this visitor's, not for shared caches.
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert '<html lang="en">' in response.get_data(as_text=True)
    page = text_of(response.get_data(as_text=True))
    assert "Privacy: what avis does with your data" in page
    assert "and your enrolments: 24 months after the end of your last course" in page
    assert "Your personal survey link: valid 90 days." in page
    assert "A task carried out in the public interest (article 6(1)(e) of the GDPR)" in page
    assert "“Delete my data”" in page
    assert CNIL in page


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_figure_and_name_comes_from_the_settings(app_with, lang: str) -> None:
    app = app_with(RETENTION_MONTHS=36, INVITATION_TTL_DAYS=1, OUTBOX_RETENTION_DAYS=45,
                   PROVIDER_EVENT_RETENTION_DAYS=60, UPLOAD_RETENTION_DAYS=7,
                   AUDIT_RETENTION_MONTHS=1, REVIEW_ARCHIVE_MONTHS=18,
                   PRIVACY_CONTROLLER="Région Pays de la Loire <DSI>",
                   PRIVACY_CONTROLLER_ADDRESS="1 rue de la Loire, 44000 Nantes",
                   PRIVACY_DPO_EMAIL="dpo@region.example",
                   MAIL_BACKEND="sendgrid", SENDGRID_API_KEY="SG.test")

    raw = app.test_client().get(f"/confidentialite?lang={lang}").get_data(as_text=True)
    page = text_of(raw)

    # Untrusted text of the settings is escaped.
    assert "<strong>Région Pays de la Loire &lt;DSI&gt;</strong>, 1 rue de la Loire" in raw
    assert raw.count('href="mailto:dpo@region.example"') == 2
    if lang == "fr":
        expected = ["36 mois après la fin de votre dernière formation",
                    "questionnaire : valable 1 jour.", "envoyés : 45 jours après",
                    "prestataire d’envoi : 60 jours.", "financeurs : 7 jours après",
                    "agents : 1 mois.", "publiés : 18 mois, puis",
                    "Délégué à la protection des données : dpo@region.example",
                    "SendGrid (Twilio Inc.), sous-traitant",
                    "clauses contractuelles types"]
    else:
        expected = ["36 months after the end of your last course",
                    "survey link: valid 1 day.", "sent to you: 45 days after",
                    "email provider: 60 days.", "funders: 7 days after",
                    "activity journal: 1 month.", "Published comments: 18 months, then",
                    "Data protection officer: dpo@region.example",
                    "SendGrid (Twilio Inc.), a processor",
                    "standard contractual clauses"]
    for words in expected:
        assert words in page
    for default in ("24", "90", "30"):
        assert f" {default} " not in page


def test_an_address_without_dpo_is_where_to_write(app_with) -> None:
    app = app_with(PRIVACY_CONTROLLER_ADDRESS="Hôtel de Région, 44966 Nantes")

    raw = app.test_client().get("/confidentialite").get_data(as_text=True)
    page = text_of(raw)

    assert "La Région, commanditaire de l’enquête</strong>, Hôtel de Région, 44966 Nantes" in raw
    assert "écrivez au responsable du traitement à l’adresse ci-dessus" in page
    assert "mailto:" not in raw


# --- Linked from every page and every email -----------------------------------------

FOOTER_LINK = re.compile(r'<footer class="site">.*<a href="/confidentialite">Confidentialité</a>'
                         r'.*</footer>', re.DOTALL)


def test_the_footer_of_a_public_page_links_to_it(client) -> None:
    for path in ("/", "/donnees", "/login"):
        assert FOOTER_LINK.search(client.get(path).get_data(as_text=True)), path


def test_the_footer_of_a_back_office_page_links_to_it(signed_in) -> None:
    browser = signed_in("region", region="52")

    response = browser.get("/admin/")

    assert response.status_code == 200
    assert FOOTER_LINK.search(response.get_data(as_text=True))


@pytest.mark.parametrize("template", render.TEMPLATES)
def test_every_survey_email_links_to_it_and_to_the_erasure(app_with, template: str) -> None:
    app = app_with(BASE_URL="https://avis.example.fr")
    values = render.MailValues(
        first_name="Marie", last_name="Dupont", course_title="Soudure", body_name="AFPA",
        start_date=dt.date(2026, 1, 5), end_date=dt.date(2026, 6, 30), city="Lyon",
        link="https://avis.example.fr/q/tok123",
        unsubscribe_link="https://avis.example.fr/unsubscribe/tok123")
    with app.app_context():
        french = personalize(render.content(template, "fr"), render.substitutions(values, "fr"))
        english = personalize(render.content(template, "en"),
                              render.substitutions(values, "en"))

    assert french.text.endswith(
        "Supprimer mes données : https://avis.example.fr/unsubscribe/tok123/supprimer\n"
        "Confidentialité : https://avis.example.fr/confidentialite\n")
    assert ('<a href="https://avis.example.fr/unsubscribe/tok123/supprimer" '
            'style="color:#000091;">Supprimer mes données</a>') in french.html
    assert ('<a href="https://avis.example.fr/confidentialite" '
            'style="color:#000091;">Confidentialité</a>') in french.html
    assert english.text.endswith(
        "Delete my data: https://avis.example.fr/unsubscribe/tok123/supprimer\n"
        "Privacy: https://avis.example.fr/confidentialite?lang=en\n")
    assert 'href="https://avis.example.fr/confidentialite?lang=en"' in english.html


@pytest.mark.parametrize(("locale", "label"), [("fr", "Confidentialité"), ("en", "Privacy")])
def test_the_account_emails_link_to_it(app_with, locale: str, label: str) -> None:
    app = app_with(BASE_URL="https://avis.example.fr")
    link = "https://avis.example.fr/confidentialite" + ("?lang=en" if locale == "en" else "")
    with app.app_context():
        email = render_account_mail(AccountMail.activation, link="https://avis.example.fr/x",
                                    email="a@example.org", role="region", locale=locale)

    assert f"\n{label}{' :' if locale == 'fr' else ':'} {link}\n" in email.text
    assert f'<a href="{link}" style="color:#000091;">{label}</a>' in email.html
