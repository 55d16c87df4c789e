"""Trainee files uploaded in the back office: stored, queued, imported by the job, and
shown with their progress, summary and rejected rows, within the uploader's scope."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.monitoring import uploads
from avis.scheduler.jobs import BY_ID
from avis.scheduler.runner import run_job
from tests.catalog.fixtures import generic_row, pe_row, write_csv, write_pe, write_xlsx
from tests.monitoring.uploads_fixtures import NEW, run_id_of, upload

RENNES_PE = {"dc_cp_lieuformation": "35000", "dc_insee_lieuformation": "35238",
             "dc_ville_lieuformation": "Rennes", "departement": "35"}
RENNES = {"code_postal": "35000", "ville": "Rennes"}


def _files(app: Flask) -> list[Path]:
    root = Path(app.instance_path) / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _run(app: Flask, run_id: int) -> ImportRun:
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        assert run is not None
        return run


def _import_waiting(app: Flask) -> dict[str, int]:
    with app.app_context():
        return uploads.import_uploads()


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def assert_refused(app: Flask, response, status: int, *texts: str) -> None:
    """The upload was refused with ``status`` and these words, and nothing was kept."""
    html = response.get_data(as_text=True)
    assert response.status_code == status
    for text in texts:
        assert text in html
    assert _count(app, ImportRun) == 0
    assert _files(app) == []


@pytest.mark.parametrize("file_format", ["pe", "csv", "xlsx"])
def test_a_good_file_is_stored_queued_then_imported_by_the_job(
        app, signed_in, trainee_file, file_format):
    staff = signed_in(Role.region, region="52")
    rows = ([pe_row(n) for n in range(1, 8)] if file_format == "pe"
            else [generic_row(n) for n in range(1, 8)])
    path = trainee_file(file_format, rows)
    assert staff.get(NEW).status_code == 200

    run_id = run_id_of(upload(staff, path, name=f"../../mon fichier.{path.suffix[1:]}"))

    run = _run(app, run_id)
    assert (run.status, run.file_format, run.region_code) == (ImportStatus.queued,
                                                             file_format, "52")
    assert run.file_name == f"mon fichier.{path.suffix[1:]}"  # no directory kept
    stored = _files(app)
    assert len(stored) == 1
    assert stored[0].parent.parent == Path(app.instance_path) / "uploads"
    assert stored[0].read_bytes() == path.read_bytes()
    assert stored[0].stem == "fichier"  # never the uploader's name
    page = staff.get(f"/admin/imports/{run_id}")
    assert page.status_code == 200
    assert page.headers["Refresh"] == "5"  # reloads itself while waiting
    assert "En attente" in page.get_data(as_text=True)
    [event] = _events(app, "import.uploaded")
    assert event.actor_id == staff.account.id
    assert event.object_id == str(run_id)

    with app.app_context():
        result = run_job(BY_ID["import_uploads"])
    assert result.outcome == "done"
    assert result.summary == {"completed": 1}

    run = _run(app, run_id)
    assert run.status == ImportStatus.completed
    assert (run.rows_read, run.imported, run.updated, run.unchanged, run.rejected) == (
        7, 7, 0, 0, 0)
    assert run.finished_dt is not None
    assert 0 <= run.seconds < 60  # from the job's start, not from the upload
    assert run.lease_until_dt is None
    assert _count(app, Enrolment) == 7
    assert _files(app) == []  # the uploaded file is gone once imported
    page = staff.get(f"/admin/imports/{run_id}")
    html = page.get_data(as_text=True)
    assert "Refresh" not in page.headers
    assert "Terminé" in html
    assert "Télécharger les lignes rejetées" not in html
    listing = staff.get("/admin/imports").get_data(as_text=True)
    assert f"/admin/imports/{run_id}" in listing
    assert staff.account.email in listing


def test_importing_the_same_file_again_changes_nothing(app, signed_in, trainee_file):
    staff = signed_in(Role.admin)
    path = trainee_file("csv", [generic_row(n) for n in range(1, 6)])
    first = run_id_of(upload(staff, path))
    _import_waiting(app)
    second = run_id_of(upload(staff, path))
    _import_waiting(app)
    run = _run(app, second)
    assert (run.rows_read, run.imported, run.updated, run.unchanged) == (5, 0, 0, 5)
    assert _run(app, first).imported == 5
    assert _run(app, first).region_code is None  # an admin's upload is national


def test_the_same_file_cannot_wait_twice(app, signed_in, trainee_file):
    staff = signed_in(Role.region, region="52")
    path = trainee_file("csv", [generic_row(1)])
    run_id = run_id_of(upload(staff, path))
    again = upload(staff, path)
    assert again.status_code == 422
    assert f"import n° {run_id}" in again.get_data(as_text=True)
    assert _count(app, ImportRun) == 1


def _xlsx_header_only(path: Path) -> Path:
    return write_xlsx(path, [])


@pytest.mark.parametrize(("name", "content", "message"), [
    ("vide.csv", b"", "le fichier est vide"),
    ("blanc.csv", b"   \n\n", "le fichier est vide"),
    ("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "encodage non reconnu"),
    ("autre.csv", "nom;prénom;ville\nDurand;Paul;Nantes\n".encode(),
     "colonnes obligatoires absentes"),
    ("entete.csv", ";".join(generic_row(1)).encode() + b"\n",
     "ne contient que l’en-tête"),
    ("ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "97-2003"),
    ("abime.xlsx", b"PK\x03\x04" + b"pas un classeur" * 20, "classeur Excel illisible"),
])
def test_a_bad_file_gets_a_clear_french_error_and_nothing_is_kept(
        app, signed_in, tmp_path, name, content, message):
    staff = signed_in(Role.region, region="52")
    path = tmp_path / name
    path.write_bytes(content)

    response = upload(staff, path)

    assert_refused(app, response, 422, "Ce fichier ne peut pas être importé", message)
    assert not list((Path(app.instance_path) / "uploads").iterdir())


@pytest.mark.parametrize("damage", ["cut", "flipped"])
def test_a_damaged_workbook_is_refused_at_upload(app, signed_in, tmp_path, damage):
    """A workbook cut short (a download that stopped) or with damaged bytes inside (its
    checksums wrong), even where its header still reads."""
    staff = signed_in(Role.region, region="52")
    good = write_xlsx(tmp_path / "ok.xlsx", [generic_row(n) for n in range(1, 300)]).read_bytes()
    if damage == "cut":
        data = good[: len(good) * 2 // 3]
    else:
        with zipfile.ZipFile(io.BytesIO(good)) as workbook:
            sheet = workbook.getinfo("xl/worksheets/sheet1.xml")
        # In the middle of the sheet's compressed rows, past the header.
        middle = sheet.header_offset + 30 + len(sheet.filename) + sheet.compress_size * 3 // 4
        data = good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1:]
    path = tmp_path / "abime.xlsx"
    path.write_bytes(data)

    response = upload(staff, path)

    assert_refused(app, response, 422, "Ce fichier ne peut pas être importé", "classeur Excel")


def test_no_file_chosen(app, signed_in):
    staff = signed_in(Role.region, region="52")
    token_page = staff.get(NEW).get_data(as_text=True)
    from tests.accounts.fixtures import csrf_token

    response = staff.client.post(NEW, data={"csrf_token": csrf_token(token_page)},
                                 content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choisissez le fichier à importer" in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_before_it_is_read(app, signed_in, tmp_path):
    app.config["UPLOAD_MAX_MB"] = 1
    staff = signed_in(Role.region, region="52")
    path = write_pe(tmp_path / "enorme.txt", [pe_row(n) for n in range(1, 4000)])
    assert path.stat().st_size > 1024 * 1024

    response = upload(staff, path)

    assert_refused(app, response, 413, "Fichier trop volumineux", "1 Mo")


def test_a_file_just_over_the_limit_with_a_small_envelope(app, signed_in, tmp_path):
    """The request may fit the limit and its envelope while the file alone exceeds it."""
    app.config["UPLOAD_MAX_MB"] = 1
    staff = signed_in(Role.region, region="52")
    path = tmp_path / "juste.csv"
    write_csv(path, [generic_row(n) for n in range(1, 4000)])
    with path.open("ab") as handle:
        handle.truncate(1024 * 1024 + 10)

    response = upload(staff, path)

    assert_refused(app, response, 413, "Fichier trop volumineux")


def test_upload_limit_setting_is_validated(tmp_path):
    from avis.config import ConfigError, load_settings

    assert load_settings(tmp_path, environ={"AVIS_UPLOAD_MAX_MB": "20"})["UPLOAD_MAX_MB"] == 20
    for wrong in ("0", "-5", "beaucoup", "5000"):
        with pytest.raises(ConfigError, match="AVIS_UPLOAD_MAX_MB"):
            load_settings(tmp_path, environ={"AVIS_UPLOAD_MAX_MB": wrong})


def test_rejected_rows_outside_the_region_and_their_download(app, signed_in, make_account,
                                                              browser, trainee_file):
    staff = signed_in(Role.region, region="52")
    rows = [generic_row(n) for n in range(1, 6)]
    rows.append(generic_row(6, email="pas-une-adresse", nom="=HYPERLINK(\"x\")"))
    rows.append(generic_row(7, session_id="SE-RENNES", **RENNES))
    path = trainee_file("csv", rows)
    run_id = run_id_of(upload(staff, path, name="stagiaires.csv"))

    assert _import_waiting(app) == {"completed": 1}

    run = _run(app, run_id)
    assert (run.rows_read, run.imported, run.rejected) == (7, 5, 2)
    with app.app_context():
        assert db.session.scalar(sa.select(Session).where(
            Session.external_id == "SE-RENNES")) is None  # nothing of région 53 written
    page = staff.get(f"/admin/imports/{run_id}").get_data(as_text=True)
    assert f"/admin/imports/{run_id}/rejets.csv" in page

    response = staff.get(f"/admin/imports/{run_id}/rejets.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "stagiaires.rejets.csv" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["ligne", "motif", "email"]
    by_line = {row[0]: row for row in table[1:]}
    assert set(by_line) == {"7", "8"}
    assert "e-mail" in by_line["7"][1]
    assert by_line["7"][table[0].index("nom")] == "'=HYPERLINK(\"x\")"  # formula-safe
    assert by_line["8"][1] == "lieu de formation hors de la région Pays de la Loire " \
                              "(département 35)"
    [event] = _events(app, "import.rejects_downloaded")
    assert (event.actor_id, event.object_id, event.changes) == (
        staff.account.id, str(run_id), {"rows": 2})

    # A colleague of the région sees the run, not the names and emails it rejected...
    colleague = signed_in(Role.region, region="52")
    html = colleague.get(f"/admin/imports/{run_id}").get_data(as_text=True)
    assert f"/admin/imports/{run_id}/rejets.csv" not in html
    assert colleague.get(f"/admin/imports/{run_id}/rejets.csv").status_code == 403
    # ...unless an admin granted the reading of personal data.
    with app.app_context():
        granted = db.session.get(Account, colleague.account.id)
        granted.can_see_personal_data = True
        db.session.commit()
    assert colleague.get(f"/admin/imports/{run_id}/rejets.csv").status_code == 200


def test_sessions_of_another_region_already_known_are_not_taken(app, signed_in, trainee_file):
    admin = signed_in(Role.admin)
    run_id_of(upload(admin, trainee_file("csv", [generic_row(1, session_id="SE-R", **RENNES)])))
    _import_waiting(app)
    staff = signed_in(Role.region, region="52")
    # The same session, said to be in Angers: it would move région 53's session.
    path = trainee_file("csv", [generic_row(2, session_id="SE-R"), generic_row(3)])
    run_id = run_id_of(upload(staff, path))

    _import_waiting(app)

    run = _run(app, run_id)
    assert (run.imported, run.rejected) == (1, 1)
    with app.app_context():
        session = db.session.scalar(sa.select(Session).where(Session.external_id == "SE-R"))
        assert session.region_code == "53"
    text = staff.get(f"/admin/imports/{run_id}/rejets.csv").get_data().decode("utf-8-sig")
    assert "session déjà enregistrée dans une autre région" in text


def test_staff_limited_to_funders_import_their_funders_sessions_only(
        app, signed_in, trainee_file):
    staff = signed_in(Role.region, region="52", funders=(4,))
    path = trainee_file("csv", [generic_row(1, financeurs="4;2"),
                                generic_row(2, session_id="SE2", financeurs="2"),
                                generic_row(3, session_id="SE3", financeurs="")])
    run_id = run_id_of(upload(staff, path))
    _import_waiting(app)
    run = _run(app, run_id)
    assert (run.imported, run.rejected) == (1, 2)
    text = staff.get(f"/admin/imports/{run_id}/rejets.csv").get_data().decode("utf-8-sig")
    assert text.count("aucun financeur de la session parmi ceux de votre compte") == 2


def test_region_staff_never_see_another_regions_imports(app, signed_in, trainee_file):
    in_53 = signed_in(Role.region, region="53")
    run_53 = run_id_of(upload(in_53, trainee_file(
        "csv", [generic_row(1, **RENNES), generic_row(2, **RENNES)]), name="bretagne.csv"))
    admin = signed_in(Role.admin)
    run_national = run_id_of(upload(admin, trainee_file("pe", [pe_row(1)]),
                                    name="national.txt"))
    staff = signed_in(Role.region, region="52")
    run_52 = run_id_of(upload(staff, trainee_file("csv", [generic_row(3)]), name="loire.csv"))
    _import_waiting(app)
    with app.app_context():
        # A command-line run: national, for admins only.
        db.session.add(ImportRun(file_name="ligne-de-commande.txt", file_hash="0" * 64,
                                 file_format="pe", campaign="cli", triggered_by="ops",
                                 status=ImportStatus.completed))
        db.session.commit()

    listing = staff.get("/admin/imports").get_data(as_text=True)
    assert "loire.csv" in listing
    for foreign in ("bretagne.csv", "national.txt", "ligne-de-commande.txt"):
        assert foreign not in listing
    for run_id in (run_53, run_national):
        assert staff.get(f"/admin/imports/{run_id}").status_code == 404
        assert staff.get(f"/admin/imports/{run_id}/rejets.csv").status_code == 404
        assert staff.submit(f"/admin/imports/{run_id}/annuler", {},
                            form_page="/admin/imports").status_code == 404
    assert _run(app, run_53).status == ImportStatus.completed
    everything = admin.get("/admin/imports").get_data(as_text=True)
    for name in ("bretagne.csv", "national.txt", "loire.csv", "ligne-de-commande.txt"):
        assert name in everything
    assert "ligne de commande (ops)" in everything
    # Other roles have no imports at all.
    for role, options in ((Role.moderator, {"region": "52"}),
                          (Role.organisation, {"siret": "12345678901234"})):
        if role == Role.organisation:
            from tests.catalog.fixtures import BODY_SIRET

            options = {"siret": BODY_SIRET}
        other = signed_in(role, **options)
        assert other.get("/admin/imports").status_code == 403
        assert other.get(f"/admin/imports/{run_52}").status_code == 403


def test_cancel_a_waiting_upload(app, signed_in, trainee_file):
    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(1)])))
    page = f"/admin/imports/{run_id}"

    response = staff.submit(f"{page}/annuler", {}, form_page=page)

    assert response.status_code == 303
    assert _run(app, run_id).status == ImportStatus.cancelled
    assert "Annulé" in staff.get(page).get_data(as_text=True)
    assert _import_waiting(app) == {}
    assert _count(app, Trainee) == 0
    assert _files(app) == []
    [event] = _events(app, "import.cancelled")
    assert event.actor_id == staff.account.id
    # Cancelling again says so, and changes nothing.
    again = staff.submit(f"{page}/annuler", {}, form_page=page, follow_redirects=True)
    assert "déjà terminé" in again.get_data(as_text=True)
    assert len(_events(app, "import.cancelled")) == 1


def test_a_run_cancelled_while_importing_stops_at_its_next_chunk(app, signed_in,
                                                                 trainee_file):
    """The fencing: a process whose run was cancelled (or taken over) writes nothing
    more and counts nothing more."""
    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(n)
                                                          for n in range(1, 200)])))
    with app.app_context():
        claimed = uploads.claim_next()
        assert claimed == (run_id, 1)
        run = db.session.get(ImportRun, run_id)
        uploads.cancel(run)
        db.session.commit()
        assert uploads.import_claimed(*claimed) == "lost"
    run = _run(app, run_id)
    assert run.status == ImportStatus.cancelled
    assert (run.rows_read, run.imported) == (0, 0)
    assert _count(app, Enrolment) == 0


def test_a_run_whose_lease_ran_out_is_taken_up_and_its_old_process_fenced_off(
        app, signed_in, trainee_file):
    import datetime as dt

    from avis import clock

    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(n)
                                                          for n in range(1, 120)])))
    with app.app_context():
        first = uploads.claim_next()
        assert first == (run_id, 1)
        assert uploads.claim_next() is None  # held by its lease
        later = clock.now() + uploads.LEASE + dt.timedelta(seconds=1)
        with clock.frozen_at(later):
            second = uploads.claim_next()
            assert second == (run_id, 2)
            # The first process wakes up: its attempt is no longer the run's.
            assert uploads.import_claimed(*first) == "lost"
            assert uploads.import_claimed(*second) == ImportStatus.completed
    run = _run(app, run_id)
    assert (run.attempts, run.rows_read, run.imported, run.unchanged) == (2, 119, 119, 0)


def test_a_file_that_kills_its_importer_every_time_is_given_up(app, signed_in, trainee_file):
    import datetime as dt

    from avis import clock

    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(1)])))
    with app.app_context():
        moment = clock.now()
        for attempt in range(1, uploads.MAX_ATTEMPTS + 1):
            with clock.frozen_at(moment):
                assert uploads.claim_next() == (run_id, attempt)  # and then "dies"
            moment += uploads.LEASE + dt.timedelta(seconds=1)
        with clock.frozen_at(moment):
            assert uploads.import_uploads() == {"given_up": 1}
    run = _run(app, run_id)
    assert run.status == ImportStatus.failed
    assert "interrompu 3 fois" in run.error
    assert "interrompu 3 fois" in staff.get(f"/admin/imports/{run_id}").get_data(as_text=True)
    assert _files(app) == []


def test_rejected_rows_are_deleted_after_some_days(app, signed_in, trainee_file):
    import datetime as dt

    from avis import clock

    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(1, email="x")])))
    _import_waiting(app)
    assert staff.get(f"/admin/imports/{run_id}/rejets.csv").status_code == 200
    later = dt.timedelta(days=app.config["UPLOAD_RETENTION_DAYS"], minutes=1)
    with app.app_context(), clock.frozen_at(clock.now() + later):
        assert uploads.import_uploads() == {"folders_removed": 1}
    assert _files(app) == []
    assert staff.get(f"/admin/imports/{run_id}/rejets.csv").status_code == 410
    assert "supprimées" in staff.get(f"/admin/imports/{run_id}").get_data(as_text=True)


def test_a_folder_whose_upload_was_never_saved_is_removed_after_a_day(app):
    orphan = Path(app.instance_path) / "uploads" / "0123456789abcdef"
    orphan.mkdir(parents=True)
    (orphan / "fichier.txt").write_text("…")
    assert _import_waiting(app) == {}  # it may be a request still saving its run
    import datetime as dt

    from avis import clock

    with app.app_context(), clock.frozen_at(clock.now() + dt.timedelta(days=1, minutes=1)):
        assert uploads.import_uploads() == {"folders_removed": 1}
    assert not orphan.exists()


def test_a_failed_import_says_so(app, signed_in, trainee_file):
    staff = signed_in(Role.region, region="52")
    run_id = run_id_of(upload(staff, trainee_file("csv", [generic_row(1)])))
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        uploads.forget_input(run)  # the file vanished from the disk
    _import_waiting(app)
    run = _run(app, run_id)
    assert run.status == ImportStatus.failed
    assert run.error == "le fichier déposé n’est plus là"
    html = staff.get(f"/admin/imports/{run_id}").get_data(as_text=True)
    assert "Échec" in html
    assert "n’est plus là" in html
