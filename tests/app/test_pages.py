"""The pages that exist so far: home, health check, errors; French first."""

from __future__ import annotations

import pytest

from tests.catalog.fixtures import pe_row


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    from avis import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/avis.db",
                      "SECRET_KEY": "x"}, instance_path=tmp_path)

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_home_page_is_french_by_default(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Aucune formation n’a encore été importée." in html


def test_home_page_in_english_on_request(client):
    html = client.get("/?lang=en").get_data(as_text=True)

    assert '<html lang="en">' in html
    assert "No course has been imported yet." in html
    # The choice is remembered for the next page.
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_home_page_follows_accept_language(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)

    assert '<html lang="en">' in html


@pytest.mark.usefixtures("app_context")
def test_home_page_shows_the_catalogue_by_departement(client, runner, trainee_file):
    rows = [pe_row(n) for n in range(3)] + [
        pe_row(9, dn_session_id="S2", dc_cp_lieuformation="85000",
               dc_ville_lieuformation="La Roche-sur-Yon", departement="85")
    ]
    assert runner.invoke(args=["import", "trainees", str(trainee_file("pe", rows))]).exit_code == 0

    html = client.get("/").get_data(as_text=True)

    assert "Loire-Atlantique (44)" in html
    assert "Vendée (85)" in html
    assert html.index("Loire-Atlantique (44)") < html.index("Vendée (85)")


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part")

    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)
