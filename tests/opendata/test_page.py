"""``/donnees``: the files, their dictionary and licence, in French and English; and
``/donnees/<filename>``: the published files only, as attachments."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from avis.opendata.dictionary import COLUMNS
from avis.opendata.export import export_open_data
from tests.opendata.conftest import OpenWorld


def page(client: FlaskClient, url: str = "/donnees", **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def row_of(text: str, name: str) -> str:
    found = re.search(rf'<tr>\s*<th scope="row"><a href="/donnees/{re.escape(name)}" '
                      rf"download>{re.escape(name)}</a></th>(.*?)</tr>", text, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_before_any_export(client: FlaskClient, app_context: None) -> None:
    text = page(client)
    assert '<html lang="fr">' in text
    assert "<h1>Données ouvertes</h1>" in text
    assert "Les fichiers n’ont pas encore été produits" in text
    assert "Licence Ouverte / Open Licence 2.0 (Etalab)" in text
    assert client.get("/donnees/avis-avis.csv").status_code == 404


def test_the_page_in_french(client: FlaskClient, open_world: OpenWorld) -> None:
    export_open_data()
    text = page(client)
    assert '<html lang="fr">' in text
    assert "<title>Données ouvertes · avis</title>" in text
    assert ('Licence : <a href="https://www.etalab.gouv.fr/licence-ouverte-open-licence/" '
            'hreflang="fr">Licence Ouverte / Open Licence 2.0 (Etalab)</a>') in text
    csv_row = row_of(text, "avis-avis.csv")
    assert csv_row.startswith("CSV pour tableur (UTF-8, séparateur « ; »)")
    assert re.search(r"\d+,\d ko \d{1,2} \w+ \d{4}, \d\d:\d\d 18$", csv_row), csv_row
    assert row_of(text, "avis-avis.xlsx").startswith("Classeur Excel (XLSX)")
    assert row_of(text, "avis-avis.parquet").endswith(" 18")
    assert row_of(text, "avis-avis-dictionnaire.csv").startswith(
        "Dictionnaire des données (CSV)")
    assert row_of(text, "avis-avis-dictionnaire.csv").endswith("— inconnu")
    # The dictionary, column by column, in French; and what is left out.
    for column in COLUMNS:
        assert (f'<th scope="row"><code lang="fr">{column.name}</code></th>\n'
                f"            <td>{column.type_fr}</td>\n"
                f"            <td>{column.description_fr}</td>") in text
    assert "les réponses des sessions de moins de 5 stagiaires inscrits sont exclues" in text
    assert "manifest.json" not in text


@pytest.mark.parametrize("how", ["query", "header"])
def test_the_page_in_english(client: FlaskClient, open_world: OpenWorld, how: str) -> None:
    export_open_data()
    if how == "query":
        text = page(client, "/donnees?lang=en")
    else:
        text = page(client, **{"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in text
    assert "<h1>Open data</h1>" in text
    assert "Licence: <a href" in text
    assert row_of(text, "avis-avis.csv").startswith("CSV for spreadsheets")
    assert re.search(r"\d+\.\d kB \w+ \d{1,2}, \d{4}|\d+\.\d kB \d{1,2} \w+ \d{4}",
                     row_of(text, "avis-avis.csv"))
    assert COLUMNS[0].description_en in text
    assert COLUMNS[0].description_fr not in text
    assert "sessions with fewer than 5 enrolled trainees are left out" in text


def test_a_file_changed_since_the_export_has_no_row_count(client: FlaskClient,
                                                          open_world: OpenWorld,
                                                          instance_path: Path) -> None:
    export_open_data()
    with (instance_path / "opendata" / "avis-avis.csv").open("ab") as handle:
        handle.write(b"\r\n")
    text = page(client)
    assert row_of(text, "avis-avis.csv").endswith("— inconnu")
    assert row_of(text, "avis-avis.parquet").endswith(" 18")


def test_the_page_is_cacheable(client: FlaskClient, app_context: None) -> None:
    response = client.get("/donnees")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response.headers["Vary"]
    assert client.get("/donnees", headers={"If-None-Match": response.headers["ETag"]}
                      ).status_code == 304
    assert client.get("/donnees?lang=en").headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(("name", "mimetype"), [
    ("avis-avis.csv", "text/csv; charset=utf-8"),  # the BOM says it too
    ("avis-avis.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("avis-avis.parquet", "application/vnd.apache.parquet"),
    ("avis-avis-dictionnaire.csv", "text/csv; charset=utf-8"),
])
def test_downloads(client: FlaskClient, open_world: OpenWorld, instance_path: Path,
                   name: str, mimetype: str) -> None:
    export_open_data()
    response = client.get(f"/donnees/{name}")
    body = response.get_data()
    response.close()  # the file it streams
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mimetype
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert body == (instance_path / "opendata" / name).read_bytes()
    again = client.get(f"/donnees/{name}", headers={"If-None-Match": response.headers["ETag"]})
    again.close()
    assert again.status_code == 304


@pytest.mark.parametrize("url", [
    "/donnees/manifest.json", "/donnees/avis-avis.ods", "/donnees/secret.csv",
    "/donnees/..%2Fsecret.csv", "/donnees/../secret.csv", "/donnees/%2E%2E/secret.csv",
    "/donnees/..%2F..%2Fetc%2Fpasswd", "/donnees/.avis-avis.csv.part",
    "/donnees/avis-avis.csv/../../secret.csv",
])
def test_nothing_else_is_served(client: FlaskClient, open_world: OpenWorld,
                                instance_path: Path, url: str) -> None:
    export_open_data()
    (instance_path / "opendata" / ".avis-avis.csv.part").write_text("partial")
    (instance_path / "secret.csv").write_text("secret")
    response = client.get(url)
    body = response.get_data()
    response.close()
    assert response.status_code == 404
    assert b"partial" not in body
    assert b"secret" not in body
