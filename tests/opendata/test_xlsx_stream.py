"""The XLSX written as a stream (``avis.opendata.xlsx``): read back with openpyxl it
holds the CSV's cells one for one, each of its column's type; text that XML escapes or
a spreadsheet would run stays the same text; sheets split at their row limit; the zip
package is what Excel and LibreOffice expect."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
import struct
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from avis.opendata.export import ExportError, export_reviews
from avis.opendata.xlsx import ROWS_AT_A_TIME, StreamingWorkbook, column_letters, text_table
from avis.spreadsheets import XML_ILLEGAL_PATTERN
from tests.opendata.conftest import OpenWorld, day
from tests.opendata.readback import COLUMNS, expected_rows, read_csv, read_xlsx
from tests.public.fixtures import add_answer, publish

#: Comments that XML escapes, or whose spaces it would drop, or that a spreadsheet runs.
AWKWARD = ("Prix < 100 € & qualité > attentes", "  espaces devant et derrière  ",
           "ligne 1\r\nligne 2\rligne 3", "=1+1 & <b>", "-5 % « ; » \"guillemets\"",
           "emoji 🎓 et accents éàçù")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def book_of(path: Path) -> openpyxl.Workbook:
    """The whole workbook, cells with their types (from the bytes: openpyxl wants a name
    ending in .xlsx)."""
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()))


def as_csv_cell(value: object) -> str:
    """An XLSX cell as the CSV writes the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def test_xlsx_cells_equal_the_csv_cells_with_their_types(open_world: OpenWorld,
                                                         out: Path) -> None:
    for n, text in enumerate(AWKWARD):
        add_answer(open_world.rennes, (4, 4, 4, 4, 5), day=day(2025, 4, 1 + n),
                   comment=(text[::-1], text))
    publish()
    paths = {f: out / f"avis-avis.{f}" for f in ("csv", "xlsx")}
    export_reviews(paths, chunk_size=5)
    csv_rows = read_csv(paths["csv"])
    sheet = book_of(paths["xlsx"])["avis"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == COLUMNS
    assert len(rows) - 1 == len(csv_rows) == len(expected_rows())
    types = {"s": set(), "n": set(), "b": set()}
    for cells, csv_row in zip(rows[1:], csv_rows, strict=True):
        values = {name: cell.value for name, cell in zip(COLUMNS, cells, strict=False)}
        # The same cells, but the control characters that XML cannot hold.
        assert {name: as_csv_cell(values.get(name)) for name in COLUMNS} == {
            name: re.sub(XML_ILLEGAL_PATTERN, "", cell) for name, cell in csv_row.items()}
        for name, cell in zip(COLUMNS, cells, strict=False):
            if cell.value is not None:
                types[cell.data_type].add(name)
    # Numbers as numbers, booleans as booleans, everything else as text: never a formula.
    assert types["n"] == {"note_accueil", "note_contenu_formation", "note_equipe_formateurs",
                          "note_moyen_materiel", "note_accompagnement", "note_globale"}
    assert types["b"] == {"recommande"}
    assert {"mois", "commentaire", "siret_formateur", "code_postal"} <= types["s"]
    assert not types["s"] & (types["n"] | types["b"])
    comments = {c.value for row in rows[1:] for c in row if isinstance(c.value, str)}
    # As typed, carriage returns and end spaces included; a formula start neutralised.
    for text in AWKWARD:
        assert (("'" + text) if text.startswith(("=", "-")) else text) in comments
    assert {type(c.value) for row in rows[1:] for c in row[1:6]} == {int}
    assert {type(row[6].value) for row in rows[1:]} == {float}


def test_sheets_split_exactly_at_the_limit(open_world: OpenWorld, out: Path) -> None:
    total = len(expected_rows())  # 18
    for limit, sizes in ((total, [total]), (6, [6, 6, 6]), (5, [5, 5, 5, 3])):
        path = out / f"split-{limit}.xlsx"
        export_reviews({"xlsx": path}, chunk_size=4, xlsx_max_rows=limit)
        book = book_of(path)
        names = [f"avis {n}" if n > 1 else "avis" for n in range(1, len(sizes) + 1)]
        assert book.sheetnames == [*names, "dictionnaire"]
        for name, size in zip(names, sizes, strict=True):
            sheet = book[name]
            assert sheet.max_row == size + 1
            assert [c.value for c in sheet[1]] == COLUMNS
            assert sheet.freeze_panes == "A2"
        assert book["dictionnaire"].freeze_panes is None
        rows, _names = read_xlsx(path)
        assert len(rows) == total


def test_a_failed_export_leaves_no_sheet_behind(open_world: OpenWorld, out: Path) -> None:
    export_reviews({"xlsx": out / "avis-avis.xlsx"})
    before = (out / "avis-avis.xlsx").read_bytes()
    (out / "avis-avis-dictionnaire.csv").unlink()
    (out / "avis-avis-dictionnaire.csv").mkdir()  # the dictionary cannot be written
    with pytest.raises(ExportError, match="dictionnaire"):
        export_reviews({"xlsx": out / "avis-avis.xlsx"}, chunk_size=4, xlsx_max_rows=5)
    assert sorted(p.name for p in out.iterdir()) == ["avis-avis-dictionnaire.csv",
                                                      "avis-avis.xlsx"]
    assert (out / "avis-avis.xlsx").read_bytes() == before


# The writer by itself ---------------------------------------------------------------------

def test_column_letters() -> None:
    assert [column_letters(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702, 16383)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]


def write(path: Path, *tables: pa.Table, freeze: bool = True) -> None:
    book = StreamingWorkbook(path, created_dt=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    try:
        book.start_sheet("données & co", freeze_header=freeze)
        for table in tables:
            book.append(table)
    except Exception:
        book.abandon()
        raise
    book.close()


def test_every_type_and_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "types.xlsx"
    table = pa.table({
        "text": pa.array(["a", "", None, " b", "é\r\n<&>"]),
        "int": pa.array([1, None, -3, 0, 2**40], pa.int64()),
        "small": pa.array([5, 4, None, 1, 2], pa.int8()),
        "decimal": pa.array([decimal.Decimal(v) if v else None
                             for v in ("4.0", "4.2", None, "1.5", "5.0")], pa.decimal128(2, 1)),
        "float": pa.array([0.5, None, 1e20, -2.25, 3.0]),
        "bool": pa.array([True, False, None, True, False]),
    })
    write(path, text_table([table.column_names]), table)
    book = book_of(path)
    (sheet,) = book.worksheets
    assert sheet.title == "données & co"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["text", "int", "small", "decimal", "float", "bool"],
        ["a", 1, 5, 4.0, 0.5, True],
        [None, None, 4, 4.2, None, False],
        [None, -3, None, None, 1e20, None],
        [" b", 0, 1, 1.5, -2.25, True],
        ["é\r\n<&>", 2**40, 2, 5.0, 3.0, False],
    ]
    assert [c.data_type for c in sheet[2]] == ["s", "n", "n", "n", "n", "b"]
    assert book.properties.created == dt.datetime(2026, 1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match="date32"):
        write(tmp_path / "dates.xlsx", pa.table({"day": pa.array([dt.date(2026, 1, 1)])}))


def test_many_rows_and_columns_keep_their_places(tmp_path: Path) -> None:
    """Rows past a batch of ``ROWS_AT_A_TIME``, appended in unequal tables, and columns
    past Z, each cell where its reference says."""
    rows = ROWS_AT_A_TIME + 7
    table = pa.table({f"c{i}": pa.array([None if (r + i) % 5 == 0 else r * 100 + i
                                         for r in range(rows)], pa.int32())
                      for i in range(30)})
    path = tmp_path / "big.xlsx"
    write(path, table.slice(0, 3), table.slice(3, ROWS_AT_A_TIME), table.slice(
        3 + ROWS_AT_A_TIME), freeze=False)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    found = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert len(found) == rows
    for r in (0, 1, 2, 3, ROWS_AT_A_TIME, ROWS_AT_A_TIME + 2, rows - 1):
        padded = [*found[r], *[None] * (30 - len(found[r]))]
        assert padded == list(table.slice(r, 1).to_pylist()[0].values())


def test_the_package_parts_and_zip_headers(tmp_path: Path) -> None:
    """What Excel and LibreOffice read first, and zip headers that agree: no ZIP64 extra
    in a local header that the central directory does not have (LibreOffice checks)."""
    path = tmp_path / "parts.xlsx"
    write(path, text_table([["a", "b"], ["c", None]]))
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        types = archive.read("[Content_Types].xml").decode()
        workbook = archive.read("xl/workbook.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        infos = archive.infolist()
    assert set(names) == {"[Content_Types].xml", "_rels/.rels", "docProps/app.xml",
                          "docProps/core.xml", "xl/workbook.xml",
                          "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                          "xl/worksheets/sheet1.xml"}
    assert 'PartName="/xl/worksheets/sheet1.xml"' in types
    assert '<sheet name="données &amp; co" sheetId="1" r:id="rId1"/>' in workbook
    assert sheet.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in sheet
    assert '<row r="2"><c r="A2" t="inlineStr"><is><t>c</t></is></c></row>' in sheet
    raw = path.read_bytes()
    for info in infos:
        assert info.compress_type == zipfile.ZIP_DEFLATED
        (signature, _version, flags, *_rest, name_length, extra_length) = struct.unpack(
            "<IHHHHHIIIHH", raw[info.header_offset:info.header_offset + 30])
        assert signature == 0x04034B50
        assert not flags & 0x08, "no data descriptor: sizes in the local header"
        assert extra_length == len(info.extra) == 0, info.filename
        assert raw[info.header_offset + 30:info.header_offset + 30 + name_length] == (
            info.filename.encode())


def test_abandon_leaves_nothing_open(tmp_path: Path) -> None:
    path = tmp_path / "abandoned.xlsx"
    book = StreamingWorkbook(path)
    book.start_sheet("avis")
    book.append(text_table([["a"]]))
    book.abandon()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abandoned.xlsx"]
