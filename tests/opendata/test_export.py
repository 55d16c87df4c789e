"""The open-data files: each format read back equals what the tables say, formulas are
neutralised in the spreadsheet formats, nothing personal, dates to the month only,
comments and replies only where the pages show them, small sessions left out."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flask import Flask

from avis.opendata.dictionary import COLUMNS as DICTIONARY
from avis.opendata.export import ExportError, count_reviews, export_reviews
from tests.opendata.conftest import (
    FORMULAS,
    TRAINEE_EMAIL,
    TRAINEE_FIRST_NAME,
    TRAINEE_LAST_NAME,
    OpenWorld,
    enrolled,
    planted_trainee_exists,
)
from tests.opendata.readback import (
    COLUMNS,
    as_in_csv,
    as_in_xlsx,
    expected_rows,
    read_csv,
    read_parquet,
    read_xlsx,
    same_rows,
)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A folder of its own for the files (``tmp_path`` holds the instance folder)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def export(folder: Path, *formats: str, **options) -> dict[str, Path]:
    paths = {f: folder / f"avis-avis.{f}" for f in formats}
    summary = export_reviews(paths, **options)
    assert summary.rows == len(expected_rows())
    return paths


def file_bytes(path: Path) -> bytes:
    """Every byte a reader could see: an XLSX file's members unzipped."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes()


def all_text(path: Path) -> str:
    """The decoded content of a file, every value and name, whatever its format (but
    the time of generation in the file's properties)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        metadata = {k: v for k, v in (table.schema.metadata or {}).items()
                    if k != b"generated_dt"}
        return (str(metadata) + str([f.metadata for f in table.schema])
                + " ".join(str(v) for v in table.to_pylist()))
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(name).decode() for name in archive.namelist()
                           if not name.startswith("docProps/"))
    return path.read_bytes().decode("utf-8")


# Round trips ---------------------------------------------------------------------------

def test_parquet_round_trip(open_world: OpenWorld, out: Path) -> None:
    paths = export(out, "parquet")
    expected = expected_rows()
    assert len(expected) == 18  # 19 answers, less the small session's
    assert same_rows(read_parquet(paths["parquet"]), expected)
    schema = pq.read_schema(paths["parquet"])
    assert schema.names == COLUMNS
    assert schema.field("note_accueil").type == pa.int8()
    assert schema.field("note_globale").type == pa.decimal128(2, 1)
    assert schema.field("recommande").type == pa.bool_()
    assert schema.metadata[b"licence"] == b"Licence Ouverte / Open Licence 2.0 (Etalab)"
    # Formulas stay as typed in Parquet: it is not read by spreadsheets.
    comments = set(pq.read_table(paths["parquet"])["commentaire"].to_pylist())
    assert set(FORMULAS) <= comments


def test_csv_round_trip(open_world: OpenWorld, out: Path) -> None:
    paths = export(out, "csv")
    assert same_rows(read_csv(paths["csv"]), [as_in_csv(r) for r in expected_rows()])
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfmois;note_accueil;note_contenu_formation;")
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ";".join(COLUMNS)
    # A decimal comma for French spreadsheets, booleans as 1 and 0, ";" inside a
    # comment quoted, its line break kept inside the quotes.
    assert '"4,2";1;"Très bien";"Formation utile ; « bons » formateurs\nmerci";' in raw.decode()


def test_xlsx_round_trip(open_world: OpenWorld, out: Path) -> None:
    paths = export(out, "xlsx")
    rows, sheets = read_xlsx(paths["xlsx"])
    assert sheets == ["avis", "dictionnaire"]
    assert same_rows(rows, [as_in_xlsx(r) for r in expected_rows()])
    book = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    dictionary = list(book["dictionnaire"].iter_rows(values_only=True))
    book.close()
    assert [row[0] for row in dictionary[1:len(DICTIONARY) + 1]] == COLUMNS
    assert any("moins de 5 stagiaires" in (row[2] or "") for row in dictionary)


def test_xlsx_continues_in_further_sheets(open_world: OpenWorld, out: Path) -> None:
    paths = export(out, "xlsx", xlsx_max_rows=7)
    rows, sheets = read_xlsx(paths["xlsx"])
    assert sheets == ["avis", "avis 2", "avis 3", "dictionnaire"]
    assert same_rows(rows, [as_in_xlsx(r) for r in expected_rows()])
    book = openpyxl.load_workbook(paths["xlsx"])
    assert [book[name].max_row for name in sheets[:3]] == [8, 8, 5]  # header + rows


def test_every_format_at_once_holds_the_same_rows(open_world: OpenWorld,
                                                  out: Path) -> None:
    paths = export(out, "csv", "xlsx", "parquet", chunk_size=4)
    parquet = read_parquet(paths["parquet"])
    assert [as_in_csv(r) for r in parquet] == read_csv(paths["csv"])  # same order too
    assert [as_in_xlsx(r) for r in parquet] == read_xlsx(paths["xlsx"])[0]
    assert (out / "avis-avis-dictionnaire.csv").exists()
    assert count_reviews() == len(parquet)


# Privacy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("format_name", ["csv", "xlsx", "parquet"])
def test_no_personal_data(open_world: OpenWorld, out: Path, format_name: str) -> None:
    assert planted_trainee_exists()
    path = export(out, format_name)[format_name]
    for text in (file_bytes(path).decode("utf-8", "replace"), all_text(path)):
        for personal in (TRAINEE_EMAIL, TRAINEE_FIRST_NAME, TRAINEE_LAST_NAME,
                         "quatrebarbes", "@example.org", "Martin", "Léa"):
            assert personal.lower() not in text.lower(), personal
    assert TRAINEE_EMAIL.encode() not in path.read_bytes()
    assert [c.name for c in DICTIONARY] == COLUMNS  # nothing but the dictionary's columns


@pytest.mark.parametrize("format_name", ["csv", "xlsx", "parquet"])
def test_dates_to_the_month_only(open_world: OpenWorld, out: Path,
                                 format_name: str) -> None:
    path = export(out, format_name)[format_name]
    text = all_text(path)
    # The answers' days (the 28th of February…) and any full date are absent…
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", text)
    assert not re.search(r"\b\d\d/\d\d/(19|20)\d\d\b", text)
    # …only months are there.
    months = {row["mois"] for row in read_parquet(export(out, "parquet")["parquet"])}
    assert months == {"2024-12", "2025-01", "2025-02", "2025-03"}


def test_parquet_keeps_only_the_time_of_generation(open_world: OpenWorld,
                                                   out: Path) -> None:
    path = export(out, "parquet")["parquet"]
    metadata = pq.read_schema(path).metadata
    generated = dt.datetime.fromisoformat(metadata[b"generated_dt"].decode())
    assert abs(generated - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert not [c for c in pq.read_schema(path).names if "date" in c or "jour" in c]


def test_rows_are_in_month_then_content_order(open_world: OpenWorld, out: Path) -> None:
    rows = read_parquet(export(out, "parquet")["parquet"])
    assert [r["mois"] for r in rows] == sorted(r["mois"] for r in rows)
    # In Rennes, the answers came on 1…6 and 31 December, their first marks 1, 2, 3, 4,
    # 5, 1 and 5: the file orders them by content, not by day.
    rennes = [(r["note_accueil"], r["note_accompagnement"], r["recommande"])
              for r in rows if r["ville"] == "Rennes"]
    assert rennes == [(1, 5, True), (1, 5, True), (2, 5, True), (3, 5, True), (4, 5, True),
                      (5, 5, True), (5, 4, False)]


# What is shown -----------------------------------------------------------------------------

def by_marks(rows: list[dict], marks: tuple[int, ...]) -> dict:
    names = COLUMNS[1:6]
    (found,) = [r for r in rows if tuple(r[n] for n in names) == marks]
    return found


def test_hidden_comments_are_absent_but_their_marks_count(open_world: OpenWorld,
                                                          out: Path) -> None:
    paths = export(out, "parquet", "csv")
    rows = read_parquet(paths["parquet"])
    shown = by_marks(rows, (5, 4, 4, 5, 3))
    assert shown["commentaire"] == "Formation utile ; « bons » formateurs\nmerci"
    assert shown["commentaire_titre"] == "Très bien"
    assert shown["reponse_organisme"] == "Merci pour votre retour !"
    assert shown["mois"] == "2025-02"
    for hidden in (open_world.pending, open_world.rejected, open_world.private):
        row = by_marks(rows, tuple(getattr(hidden, d) for d in
                                   ("welcome", "content", "trainers", "equipment", "support")))
        assert row["commentaire"] is None
        assert row["commentaire_titre"] is None
        assert row["reponse_organisme"] is None  # a reply to a hidden comment neither
        assert row["note_globale"] == hidden.overall
    assert by_marks(rows, (1, 2, 1, 2, 1))["recommande"] is False
    text = all_text(paths["csv"]) + all_text(paths["parquet"])
    for secret in ("attente", "rejeté", "Privé", "privé", "Réponse à un commentaire"):
        assert secret not in text


def test_replies_only_when_published(open_world: OpenWorld, out: Path) -> None:
    rows = read_parquet(export(out, "parquet")["parquet"])
    row = by_marks(rows, (2, 5, 5, 5, 5))
    assert row["commentaire"] == "Très bon accompagnement"
    assert row["commentaire_titre"] is None
    assert row["reponse_organisme"] is None
    replies = {r["reponse_organisme"] for r in rows} - {None}
    assert replies == {"Merci pour votre retour !"}


def test_unmoderated_comments_follow_the_pages(app: Flask, open_world: OpenWorld,
                                               out: Path) -> None:
    app.config["PUBLISH_COMMENTS_UNMODERATED"] = True
    paths = {"parquet": out / "avis-avis.parquet"}
    export_reviews(paths)
    rows = read_parquet(paths["parquet"])
    assert same_rows(rows, expected_rows(unmoderated=True))
    pending = by_marks(rows, (3, 3, 4, 2, 2))
    assert pending["commentaire"] == "Commentaire en attente de modération"
    assert pending["reponse_organisme"] == "Réponse à un commentaire en attente"
    assert by_marks(rows, (2, 5, 5, 5, 5))["reponse_organisme"] == "Réponse pas encore modérée"
    assert by_marks(rows, (1, 2, 1, 2, 1))["commentaire"] is None  # rejected, still
    assert by_marks(rows, (4, 4, 4, 4, 4))["commentaire"] is None  # private, still


def test_small_sessions_are_left_out(app: Flask, open_world: OpenWorld,
                                     out: Path) -> None:
    assert enrolled(open_world.small.session.id) == 3
    assert enrolled(open_world.at_threshold.session.id) == 5
    rows = read_parquet(export(out, "parquet")["parquet"])
    assert not [r for r in rows if r["formation_intitule"] == "Comptable assistant"]
    (threshold,) = [r for r in rows if r["formation_intitule"] == "Cuisinier"]
    assert threshold["commentaire"] == "Session de cinq stagiaires"
    assert "Nous étions trois" not in all_text(out / "avis-avis.parquet")

    app.config["MIN_SESSION_SIZE"] = 6
    export_reviews({"parquet": out / "six.parquet"})
    assert "Cuisinier" not in {r["formation_intitule"]
                               for r in read_parquet(out / "six.parquet")}
    dictionary = (out / "six-dictionnaire.csv").read_text(encoding="utf-8-sig")
    assert "sessions de moins de 6 stagiaires inscrits sont exclues" in dictionary


def test_the_catalogue_columns(open_world: OpenWorld, out: Path) -> None:
    rows = read_parquet(export(out, "parquet")["parquet"])
    row = by_marks(rows, (5, 4, 4, 5, 3))
    assert row["formacodes"] == "22683|22684"
    assert row["certifinfos"] == "54913|54914"
    assert row["siret_formateur"] == open_world.atlantique.body.siret
    assert row["raison_sociale_formateur"] == "Atlantique Formation Conseil"
    assert row["action_numero"] == open_world.atlantique.action.numero
    assert (row["code_postal"], row["ville"], row["departement_code"], row["departement_nom"],
            row["region_code"], row["region_nom"]) == (
        "44000", "Nantes", "44", "Loire-Atlantique", "52", "Pays de la Loire")
    assert row["dispositif"] == "PRF"
    laval = by_marks(rows, (2, 5, 5, 5, 5))
    assert (laval["financeurs"], laval["financeurs_libelles"]) == (
        "2|4", "Conseil régional|France Travail")
    rennes = next(r for r in rows if r["ville"] == "Rennes")
    assert (rennes["region_nom"], rennes["financeurs_libelles"]) == ("Bretagne", "bénéficiaire")


# Spreadsheets ------------------------------------------------------------------------------

def test_formulas_are_neutralised_in_csv(open_world: OpenWorld, out: Path) -> None:
    path = export(out, "csv")["csv"]
    found = read_csv(path)
    comments = {r["commentaire"] for r in found}
    titles = {r["commentaire_titre"] for r in found}
    for formula in FORMULAS:
        assert "'" + formula in comments
        assert formula not in comments
    assert "'+33 6 12 34 56 78" in titles
    assert "'@SUM(A1:A9)" in titles
    # No cell of the file starts a formula, quoted or not.
    cells = [cell for row in pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str,
                                         keep_default_na=False).itertuples(index=False)
             for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


def test_formulas_are_neutralised_in_xlsx(open_world: OpenWorld, out: Path) -> None:
    path = export(out, "xlsx")["xlsx"]
    book = openpyxl.load_workbook(path)  # not read-only: cell types are wanted
    cells = [cell for row in book["avis"].iter_rows() for cell in row]
    assert not [c for c in cells if c.data_type == "f"]
    values = [c.value for c in cells if isinstance(c.value, str)]
    for formula in FORMULAS:
        assert "'" + formula in values
    assert not [v for v in values if v[:1] in ("=", "+", "-", "@")]
    # A control character XML cannot hold is dropped, not fatal.
    assert "Un caractère de contrôle au milieu" in values
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet


# Failures ----------------------------------------------------------------------------------

def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_an_unwritable_place_is_an_export_error(open_world: OpenWorld, out: Path) -> None:
    (out / "a-file").write_text("")
    with pytest.raises(ExportError, match="n’est pas un dossier"):
        export_reviews({"csv": out / "a-file" / "avis.csv"})
    with pytest.raises(ExportError, match="n’existe pas"):
        export_reviews({"csv": out / "missing" / "avis.csv"})
    assert not (out / "missing").exists()
    assert leftovers(out) == []


def test_a_failed_export_leaves_the_previous_files(open_world: OpenWorld,
                                                   out: Path) -> None:
    export(out, "csv", "parquet")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # The dictionary cannot be put in place: nothing is, the data files neither.
    (out / "avis-avis-dictionnaire.csv").unlink()
    (out / "avis-avis-dictionnaire.csv").mkdir()
    with pytest.raises(ExportError, match=r"avis-avis-dictionnaire\.csv"):
        export_reviews({"csv": out / "avis-avis.csv",
                        "parquet": out / "avis-avis.parquet"})
    assert leftovers(out) == []
    for name in ("avis-avis.csv", "avis-avis.parquet"):
        assert (out / name).read_bytes() == before[name]


def test_an_empty_export_has_headers(app_context: None, out: Path) -> None:
    paths = {f: out / f"vide.{f}" for f in ("csv", "xlsx", "parquet")}
    summary = export_reviews(paths)
    assert summary.rows == 0
    assert read_parquet(paths["parquet"]) == []
    assert pq.read_schema(paths["parquet"]).names == COLUMNS
    assert read_csv(paths["csv"]) == []
    assert read_xlsx(paths["xlsx"]) == ([], ["avis", "dictionnaire"])
    assert io.BytesIO(paths["csv"].read_bytes()).read(3) == b"\xef\xbb\xbf"
