"""Importing trainee files through ``avis import trainees``, on each database."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from avis.catalog.imports.formats import GENERIC_COLUMNS, PE_COLUMNS
from avis.db import db
from avis.models import (
    Action,
    Course,
    Enrolment,
    ImportRun,
    ImportStatus,
    Session,
    Trainee,
    TrainingBody,
)
from tests.catalog.fixtures import BODY_SIRET, HEAD_OFFICE_SIRET, generic_row, make_siret, pe_row


def run_import(runner, path: Path, *args: str):
    return runner.invoke(args=["import", "trainees", str(path), *args])


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every catalogue table, to compare before and after a re-import."""
    tables = {}
    for model in (TrainingBody, Course, Action, Session, Trainee, Enrolment):
        rows = db.session.execute(sa.select(model.__table__).order_by(model.id))
        tables[model.__tablename__] = [tuple(r) for r in rows]
    return tables


def rejected_rows(path: Path, delimiter: str = "|") -> list[dict[str, str]]:
    report = path.with_name(path.name + ".rejected.csv")
    with report.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


pytestmark = pytest.mark.usefixtures("app_context")


def test_pe_file_fills_the_catalogue(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1), pe_row(2, c_adresseemail=" Lea.MARTIN2@Example.ORG ")])

    result = run_import(runner, path, "--format", "pe")

    assert result.exit_code == 0, result.output
    assert f"{path.name} : 2 lignes lues, 2 importées, 0 mises à jour, 0 inchangées, 0 rejetées" \
        in result.output
    bodies = {b.siret: b for b in db.session.scalars(sa.select(TrainingBody))}
    assert set(bodies) == {BODY_SIRET, HEAD_OFFICE_SIRET}
    assert bodies[BODY_SIRET].name == "Formation Ouest Nantes"
    assert bodies[BODY_SIRET].siren == BODY_SIRET[:9]
    assert bodies[HEAD_OFFICE_SIRET].name == "Formation Ouest SA"
    course = db.session.scalars(sa.select(Course)).one()
    assert (course.numero, course.title) == ("14_AF_0000011111", "Aide à domicile")
    assert course.formacodes == ["42056", "44028"]
    assert course.certifinfos == ["83899"]
    action = db.session.scalars(sa.select(Action)).one()
    assert action.numero == "14_AC_0000012345"
    assert action.training_body_id == bodies[BODY_SIRET].id
    assert action.responsible_body_id == bodies[HEAD_OFFICE_SIRET].id
    session = db.session.scalars(sa.select(Session)).one()
    assert session.external_id == "2422722"
    assert session.numero == "14_SE_0000092111"
    assert (session.start_date, session.end_date) == (dt.date(2026, 1, 5), dt.date(2026, 6, 30))
    assert (session.postcode, session.insee_code, session.city) == ("44000", "44109", "Nantes")
    assert (session.departement, session.region_code) == ("44", "52")
    assert session.funders == [2, 4]
    assert session.funding_scheme == "CR"
    emails = set(db.session.scalars(sa.select(Trainee.email)))
    assert emails == {"lea.martin1@example.org", "lea.martin2@example.org"}
    trainee = db.session.scalars(sa.select(Trainee).where(Trainee.id == min(
        db.session.scalars(sa.select(Trainee.id))))).one()
    assert (trainee.last_name, trainee.first_name, trainee.phone_1, trainee.phone_2) == (
        "Martin1", "Léa", "0601020304", None)
    enrolments = db.session.scalars(sa.select(Enrolment)).all()
    assert [e.campaign for e in enrolments] == [path.name, path.name]
    run = db.session.scalars(sa.select(ImportRun)).one()
    assert (run.status, run.rows_read, run.imported, run.rejected) == (
        ImportStatus.completed, 2, 2, 0)
    assert run.file_format == "pe"
    assert len(run.file_hash) == 64
    assert run.finished_dt is not None
    assert run.finished_dt >= run.started_dt
    assert not path.with_name(path.name + ".rejected.csv").exists()


def test_pe_file_with_39_columns(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1, dc_cofinanceuropca="0")],
                        columns=[*PE_COLUMNS, "dc_cofinanceuropca"])

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert count(Enrolment) == 1


def test_format_is_guessed_from_the_header(runner, trainee_file):
    pe_path = trainee_file("pe", [pe_row(1)])
    csv_path = trainee_file("csv", [generic_row(1)])

    assert run_import(runner, pe_path).exit_code == 0
    assert run_import(runner, csv_path).exit_code == 0

    assert count(Enrolment) == 2
    formats = db.session.scalars(sa.select(ImportRun.file_format).order_by(ImportRun.id)).all()
    assert formats == ["pe", "csv"]


def test_reimporting_the_same_file_changes_nothing(runner, trainee_file):
    rows = [pe_row(n) for n in range(1, 8)] + [
        pe_row(9, dn_session_id="2422799", dc_numeroicsession="14_SE_9",
               dc_cp_lieuformation="49000", dc_ville_lieuformation="Angers", departement="49"),
        pe_row(1, dn_session_id="2422799"),  # the same trainee in a second session
    ]
    path = trainee_file("pe", rows)
    assert run_import(runner, path).exit_code == 0
    before = snapshot()

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert "9 lignes lues, 0 importées, 0 mises à jour, 9 inchangées, 0 rejetées" in result.output
    db.session.expire_all()
    assert snapshot() == before
    assert count(Trainee) == 8
    assert count(Enrolment) == 9
    assert count(Session) == 2


def test_trainee_is_updated_across_campaigns_never_duplicated(runner, trainee_file):
    first = trainee_file("pe", [pe_row(1), pe_row(2)])
    assert run_import(runner, first, "--campaign", "janvier").exit_code == 0
    second = trainee_file("pe", [
        pe_row(1, c_prenomcorrespondance="Léna", c_telephone1="0699999999"),
        pe_row(2),
        pe_row(3),
    ])

    result = run_import(runner, second, "--campaign", "février")

    assert result.exit_code == 0, result.output
    assert "3 lignes lues, 1 importées, 1 mises à jour, 1 inchangées, 0 rejetées" in result.output
    assert count(Trainee) == 3
    assert count(Enrolment) == 3
    lena = db.session.scalars(
        sa.select(Trainee).where(Trainee.email == "lea.martin1@example.org")).one()
    assert (lena.first_name, lena.phone_1) == ("Léna", "0699999999")
    assert lena.updated_dt > lena.created_dt
    campaigns = dict(db.session.execute(
        sa.select(Trainee.email, Enrolment.campaign).join(Enrolment.trainee)).all())
    assert campaigns == {
        "lea.martin1@example.org": "janvier",
        "lea.martin2@example.org": "janvier",
        "lea.martin3@example.org": "février",
    }


def test_session_data_is_updated_by_a_newer_file(runner, trainee_file):
    assert run_import(runner, trainee_file("pe", [pe_row(1)])).exit_code == 0
    newer = trainee_file("pe", [pe_row(1, dd_datefinplanformation="2026-07-10 00:00:00.0")])

    result = run_import(runner, newer)

    assert result.exit_code == 0
    session = db.session.scalars(sa.select(Session)).one()
    assert session.end_date == dt.date(2026, 7, 10)
    assert count(Session) == 1
    run = db.session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert run.details["sessions_updated"] == 1


@pytest.mark.parametrize("missing", ["NULL", "", "00000000000000"])
def test_missing_delivering_siret_falls_back_to_the_responsible_body(runner, trainee_file, missing):
    path = trainee_file("pe", [pe_row(1, dc_siretorganismeformateur=missing,
                                      dc_raisonsocialeorganismeformateur="NULL",
                                      dc_lblorganismeorganismeformateur="NULL")])

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    body = db.session.scalars(sa.select(TrainingBody)).one()
    assert (body.siret, body.name) == (HEAD_OFFICE_SIRET, "Formation Ouest SA")
    action = db.session.scalars(sa.select(Action)).one()
    assert action.training_body_id == action.responsible_body_id == body.id


def test_generic_file_without_responsible_body(runner, trainee_file):
    path = trainee_file("csv", [generic_row(1)],
                        columns=[c for c in GENERIC_COLUMNS if "responsable" not in c])

    assert run_import(runner, path, "--format", "csv").exit_code == 0

    action = db.session.scalars(sa.select(Action)).one()
    assert action.training_body_id == action.responsible_body_id
    assert db.session.scalars(sa.select(TrainingBody.siret)).all() == [BODY_SIRET]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"c_adresseemail": "lea.martin@"}, "adresse e-mail invalide : «lea.martin@»"),
        ({"c_adresseemail": "NULL"}, "adresse e-mail manquante"),
        ({"c_adresseemail": "lea@localhost"}, "adresse e-mail invalide"),
        ({"c_validitemail_id": "I"}, "adresse e-mail signalée invalide par France Travail"),
        ({"dc_siretorganismeformateur": BODY_SIRET[:-1] + str((int(BODY_SIRET[-1]) + 1) % 10)},
         "SIRET du formateur invalide"),
        ({"dc_siretorganismeformateur": "NULL", "dc_siret": "NULL"}, "SIRET du formateur manquant"),
        ({"dc_siret": "1234"}, "SIRET du responsable invalide"),
        ({"dc_cp_lieuformation": "4400"}, None),  # 04400 is a valid postcode (Barcelonnette)
        ({"dc_cp_lieuformation": "ABCDE"}, "code postal invalide : «ABCDE»"),
        ({"dc_cp_lieuformation": "NULL"}, "code postal manquant"),
        ({"dc_cp_lieuformation": "98000", "departement": "NULL"}, "hors des régions"),
        ({"dd_datedebutplanformation": "2026-02-30 00:00:00.0"}, "date de début invalide"),
        ({"dd_datefinplanformation": "NULL"}, "date de fin manquante"),
        ({"dd_datefinplanformation": "2025-12-31 00:00:00.0"},
         "la date de fin précède la date de début"),
        ({"liste_financeur": "2;99"}, "code financeur inconnu"),
        ({"dc_lblformation": "NULL"}, "intitulé de la formation manquant"),
        ({"dn_session_id": "NULL"}, "identifiant de session manquant"),
        ({"dc_formacode_ppal_id": "4205"}, "formacodes"),
        ({"dc_insee_lieuformation": "ABC"}, "code INSEE invalide"),
        ({"c_nomcorrespondance": "x" * 101}, "nom trop long"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(runner, trainee_file, overrides, reason):
    path = trainee_file("pe", [pe_row(1), pe_row(2, **overrides), pe_row(3)])

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    report = path.with_name(path.name + ".rejected.csv")
    if reason is None:
        assert "3 importées" in result.output
        assert not report.exists()
        return
    assert "2 importées" in result.output
    assert "1 rejetées" in result.output
    rows = rejected_rows(path)
    assert len(rows) == 1
    assert rows[0]["ligne"] == "3"
    assert reason in rows[0]["motif"]
    assert rows[0]["c_adresseemail"] == pe_row(2, **overrides)["c_adresseemail"]
    assert count(Enrolment) == 2


def test_row_with_wrong_number_of_cells_is_rejected(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1), pe_row(2)])
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(2, "Dupont|Jean|jean.dupont@example.org")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")

    result = run_import(runner, path)

    assert result.exit_code == 0
    rows = rejected_rows(path)
    assert [(r["ligne"], r["motif"]) for r in rows] == [
        ("3", "nombre de colonnes incorrect : 3 au lieu de 38")]
    assert count(Enrolment) == 2


def test_every_reason_of_a_row_is_reported(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1, c_adresseemail="nope", dc_cp_lieuformation="ABCDE")])

    run_import(runner, path)

    (row,) = rejected_rows(path)
    assert "adresse e-mail invalide" in row["motif"]
    assert "code postal invalide" in row["motif"]


def test_duplicate_rows_are_rejected_even_across_chunks(runner, trainee_file):
    # The test app reads 50 rows per chunk: row 120 repeats row 5 from the first chunk.
    rows = [pe_row(n) for n in range(1, 120)] + [pe_row(5, c_prenomcorrespondance="Autre")]
    path = trainee_file("pe", rows)

    result = run_import(runner, path)

    assert "120 lignes lues, 119 importées" in result.output
    (row,) = rejected_rows(path)
    assert row["ligne"] == "121"
    assert "doublon" in row["motif"]
    assert db.session.scalar(
        sa.select(Trainee.first_name).where(Trainee.email == "lea.martin5@example.org")) == "Léa"


@pytest.mark.parametrize(
    ("postcode", "departement", "region"),
    [("44000", "44", "52"), ("20000", "2A", "94"), ("20200", "2B", "94"),
     ("97400", "974", "04"), ("75001", "75", "11"), ("01000", "01", "84")],
)
def test_region_comes_from_the_postcode(runner, trainee_file, postcode, departement, region):
    path = trainee_file("pe", [pe_row(1, dc_cp_lieuformation=postcode, departement="NULL")])

    assert run_import(runner, path).exit_code == 0

    session = db.session.scalars(sa.select(Session)).one()
    assert (session.departement, session.region_code) == (departement, region)


@pytest.mark.parametrize("column", ["dc_siret", "c_adresseemail", "dd_datefinplanformation"])
def test_a_missing_column_fails_the_whole_file(runner, trainee_file, column):
    path = trainee_file("pe", [pe_row(1)], columns=[c for c in PE_COLUMNS if c != column])

    result = run_import(runner, path, "--format", "pe")

    assert result.exit_code == 2
    assert f"colonne obligatoire absente : {column}" in result.output
    assert count(ImportRun) == 0
    assert count(Enrolment) == 0


def test_generic_file_missing_columns_names_them_all(runner, trainee_file):
    path = trainee_file("csv", [generic_row(1)],
                        columns=[c for c in GENERIC_COLUMNS if c not in {"email", "ville"}])

    result = run_import(runner, path, "--format", "csv")

    assert result.exit_code == 2
    assert "colonnes obligatoires absentes : email, ville" in result.output


def test_file_that_does_not_exist(runner, tmp_path):
    result = run_import(runner, tmp_path / "absent.csv")

    assert result.exit_code == 2
    assert "fichier introuvable" in result.output


def test_empty_file(runner, tmp_path):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")

    result = run_import(runner, path, "--format", "csv")

    assert result.exit_code == 2
    assert "le fichier est vide" in result.output


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_generic_csv_encodings_and_delimiters(runner, trainee_file, delimiter, encoding):
    rows = [
        generic_row(1, prenom="Hélène", ville="Saint-Barthélemy-d'Anjou", code_postal="49124",
                    date_debut="02/02/2026", date_fin="29/05/2026",
                    formation_intitule="Opérateur menuiserie industrielle"),
        generic_row(2, financeurs="2;4", formacodes="42752;42754"),
    ]
    path = trainee_file("csv", rows, delimiter=delimiter, encoding=encoding)

    result = run_import(runner, path, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert "2 importées" in result.output
    first = db.session.scalars(
        sa.select(Trainee).where(Trainee.email == "paul.durand1@example.org")).one()
    assert first.first_name == "Hélène"
    assert db.session.scalar(sa.select(Course.title)) == "Opérateur menuiserie industrielle"
    session = db.session.scalars(sa.select(Session)).one()
    assert session.city == "Saint-Barthélemy-d'Anjou"
    assert (session.start_date, session.end_date) == (dt.date(2026, 2, 2), dt.date(2026, 5, 29))


def test_generic_csv_lists_with_semicolons_inside_a_semicolon_file(runner, trainee_file):
    path = trainee_file("csv", [generic_row(1, financeurs="2;4", formacodes="42752;42754")])

    assert run_import(runner, path).exit_code == 0

    assert db.session.scalar(sa.select(Session.funders)) == [2, 4]
    assert db.session.scalar(sa.select(Course.formacodes)) == ["42752", "42754"]


def test_unknown_encoding_fails_the_whole_file(runner, tmp_path):
    path = tmp_path / "abime.csv"
    header = ";".join(GENERIC_COLUMNS).encode()
    # 0x81 is neither UTF-8 nor Windows-1252.
    path.write_bytes(header + b"\n" + b"paul\x81@example.org;" + b";" * 19 + b"\n")

    result = run_import(runner, path, "--format", "csv")

    assert result.exit_code == 2
    assert "encodage non reconnu" in result.output


def test_pipe_delimited_pe_file_in_windows_1252(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1, dc_lblformation="Préparateur de commandes")],
                        encoding="cp1252")

    assert run_import(runner, path).exit_code == 0

    assert db.session.scalar(sa.select(Course.title)) == "Préparateur de commandes"


def test_xlsx_file(runner, trainee_file):
    rows = [
        generic_row(1, code_postal=1000, ville="Bourg-en-Bresse",
                    date_debut=dt.datetime(2026, 3, 2), date_fin=dt.datetime(2026, 6, 12),
                    siret_formateur=int(BODY_SIRET)),
        generic_row(2, email="pas-une-adresse"),
    ]
    path = trainee_file("xlsx", rows)

    result = run_import(runner, path, "--format", "xlsx")

    assert result.exit_code == 0, result.output
    assert "1 importées" in result.output
    assert "1 rejetées" in result.output
    session = db.session.scalars(sa.select(Session)).one()
    assert (session.postcode, session.departement, session.region_code) == ("01000", "01", "84")
    assert session.start_date == dt.date(2026, 3, 2)
    (row,) = rejected_rows(path, delimiter=";")
    assert row["ligne"] == "3"
    assert "adresse e-mail invalide" in row["motif"]


def test_dry_run_writes_nothing_but_reports(runner, trainee_file):
    path = trainee_file("pe", [pe_row(1), pe_row(2), pe_row(3, c_adresseemail="x")])

    result = run_import(runner, path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "3 lignes lues, 2 importées, 0 mises à jour, 0 inchangées, 1 rejetées" in result.output
    assert "simulation" in result.output
    for model in (TrainingBody, Course, Action, Session, Trainee, Enrolment, ImportRun):
        assert count(model) == 0, model
    assert len(rejected_rows(path)) == 1


def test_a_stale_report_is_removed_once_the_file_is_clean(runner, trainee_file, tmp_path):
    path = trainee_file("pe", [pe_row(1), pe_row(2, c_adresseemail="x")])
    run_import(runner, path)
    report = path.with_name(path.name + ".rejected.csv")
    assert report.exists()

    path.write_text(path.read_text(encoding="utf-8").replace("|x|", "|lea.martin2@example.org|"),
                    encoding="utf-8")
    result = run_import(runner, path)

    assert "1 importées, 0 mises à jour, 1 inchangées, 0 rejetées" in result.output
    assert not report.exists()


def test_rejected_report_neutralises_spreadsheet_formulas(runner, trainee_file):
    formula = '=HYPERLINK("http://evil.example","clic")'
    path = trainee_file("csv", [generic_row(1, email=formula)])

    run_import(runner, path)

    (row,) = rejected_rows(path, delimiter=";")
    assert row["email"] == "'" + formula


def test_rejected_report_can_be_corrected_and_imported(runner, trainee_file):
    path = trainee_file("csv", [generic_row(1), generic_row(2, date_fin="2026-01-01")])
    run_import(runner, path)
    report = path.with_name(path.name + ".rejected.csv")
    report.write_text(report.read_text(encoding="utf-8-sig").replace("2026-01-01", "2026-05-29"),
                      encoding="utf-8-sig")

    result = run_import(runner, report, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert "1 importées" in result.output
    assert count(Enrolment) == 2


def test_many_bodies_and_sessions_in_several_chunks(runner, trainee_file):
    # 130 rows over 3 chunks of 50, 13 sessions of 10 trainees, 13 bodies.
    rows = []
    for n in range(130):
        session = n // 10
        rows.append(pe_row(
            n,
            dn_session_id=f"S{session}",
            dc_numeroicsession=f"SE{session}",
            dc_numeroicaction=f"AC{session}",
            dc_siretorganismeformateur=make_siret(1000 + session),
            dc_raisonsocialeorganismeformateur=f"Organisme {session}",
        ))
    path = trainee_file("pe", rows)

    result = run_import(runner, path)

    assert "130 importées" in result.output, result.output
    assert count(Session) == 13
    assert count(TrainingBody) == 14  # 13 delivering bodies and the head office
    assert count(Action) == 13
    sizes = db.session.execute(
        sa.select(sa.func.count()).select_from(Enrolment).group_by(Enrolment.session_id)
    ).scalars().all()
    assert sorted(sizes) == [10] * 13


def test_large_file_path_prepares_chunks_in_a_child_process(runner, trainee_file, monkeypatch):
    """Files above the size threshold are read by a child process: same outcome, same report.

    (That a child process really runs is checked in ``test_import_crash``.)"""
    from avis.catalog.imports import pipeline

    rows = [pe_row(n) for n in range(1, 130)] + [
        pe_row(5),  # a duplicate, found in another chunk than its original
        pe_row(200, c_adresseemail="pas-une-adresse"),
    ]
    inline_file = trainee_file("pe", rows)
    assert "129 importées" in run_import(runner, inline_file).output
    inline_report = rejected_rows(inline_file)
    before = snapshot()
    child_file = trainee_file("pe", rows)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)

    result = run_import(runner, child_file)

    assert "131 lignes lues, 0 importées, 0 mises à jour, 129 inchangées, 2 rejetées" \
        in result.output, result.output
    assert rejected_rows(child_file) == inline_report
    db.session.expire_all()
    assert snapshot() == before
