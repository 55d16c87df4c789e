"""Region staff upload a trainee file on a phone and watch it imported: the run's page
shows it waiting, then importing, then its summary, reloading itself (no script); the
rejected rows download. axe-core and the 375-pixel screen on every page of the way."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.catalog.fixtures import generic_row, write_csv
from tests.e2e.conftest import LiveServer
from tests.e2e.test_backoffice import Findings, heading, open_page, printed_login, sign_in

#: One step of the scheduler's job, against the live server's database and instance
#: folder: ``claim`` takes the waiting upload, ``import RUN ATTEMPT`` imports it.
STEP = """
import sys
from avis import create_app
from avis.monitoring import uploads
app = create_app(instance_path=sys.argv[1])
with app.app_context():
    if sys.argv[2] == "claim":
        print(*uploads.claim_next())
    else:
        print(uploads.import_claimed(int(sys.argv[3]), int(sys.argv[4])))
"""


def job_step(live_server: LiveServer, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=live_server.database_url, AVIS_SECRET_KEY="e2e-secret")
    done = subprocess.run([sys.executable, "-c", STEP, str(live_server.instance), *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_region_staff_upload_a_file_and_see_it_imported(page: Any, live_server, demo_logins,
                                                        authenticator, tmp_path: Path):
    login = printed_login(demo_logins, "region")
    findings = Findings(page)
    rows = [generic_row(n, email=f"navigateur{n}@example.org", session_id="SE-E2E",
                        code_postal="44000", ville="Nantes") for n in range(1, 41)]
    rows.append(generic_row(41, email="pas-une-adresse", session_id="SE-E2E"))
    path = write_csv(tmp_path / "stagiaires-navigateur.csv", rows)
    page.goto("/login")
    sign_in(page, login, authenticator)

    page.get_by_role("navigation", name="Espace professionnel").get_by_role(
        "link", name="Imports", exact=True).click()
    expect(heading(page)).to_have_text("Imports")
    findings.check("the imports")
    page.get_by_role("link", name="Déposer un fichier de stagiaires").click()
    expect(heading(page)).to_have_text("Déposer un fichier de stagiaires")
    findings.check("the upload form")

    # Nothing chosen: the form says what is missing.
    page.get_by_role("button", name="Déposer et importer").click()
    expect(page.get_by_role("alert")).to_contain_text("Choisissez le fichier à importer")
    findings.check("the upload form with an error")

    page.get_by_label("Fichier de stagiaires", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Déposer et importer").click()
    expect(heading(page)).to_have_text("Import de stagiaires-navigateur.csv")
    expect(page.get_by_role("status")).to_contain_text("En attente")
    findings.check("a run waiting")
    run_id = re.search(r"/admin/imports/(\d+)$", page.url).group(1)

    claimed = job_step(live_server, "claim")
    assert claimed.split()[0] == run_id
    # The page reloads itself (a Refresh header, no script): it shows the import going on.
    expect(page.get_by_role("status")).to_contain_text("Import en cours", timeout=12_000)
    expect(page.get_by_role("status")).to_contain_text("0 ligne lue jusqu’ici")
    findings.check("a run importing")

    assert job_step(live_server, "import", *claimed.split()) == "completed"
    expect(page.get_by_role("status")).to_contain_text("Terminé", timeout=12_000)
    figures = page.locator("dl.figures")
    expect(figures).to_contain_text("Lues41")
    expect(figures).to_contain_text("Importées40")
    expect(figures).to_contain_text("Rejetées1")
    expect(page.get_by_text("Cette page se recharge toute seule")).to_have_count(0)
    findings.check("a run imported")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger les lignes rejetées (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "stagiaires-navigateur.rejets.csv"
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert [row[0] for row in table[1:]] == ["42"]
    assert "e-mail" in table[1][1]

    open_page(page, "/admin/imports", "Imports")
    expect(page.get_by_role("region", name="Imports, du plus récent au plus ancien")
           .get_by_role("link", name="stagiaires-navigateur.csv")).to_be_visible()
    findings.check("the imports with the new one")
    findings.assert_none()
