"""The XLSX writer: what a spreadsheet reads back is what was written, formulas neutralised."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from avis.spreadsheets import xlsx_bytes


def _read(data: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.active.iter_rows(values_only=True))


def test_rows_come_back_with_their_types():
    data = xlsx_bytes(["Organisme", "Invités", "Jour"],
                      [["Forma'Plus", 12, dt.date(2026, 3, 1)], ["Atelier", None, None]])
    rows = _read(data)
    assert rows[0] == ("Organisme", "Invités", "Jour")
    assert rows[1][:2] == ("Forma'Plus", 12)
    assert rows[1][2].date() == dt.date(2026, 3, 1)
    assert rows[2] == ("Atelier", None, None)


def test_formulas_are_kept_as_text_and_control_characters_removed():
    data = xlsx_bytes(["=titre"], [["=HYPERLINK(\"http://x\")"], ["+33 6"], ["a\x07b"]])
    rows = _read(data)
    assert rows == [("'=titre",), ("'=HYPERLINK(\"http://x\")",), ("'+33 6",), ("ab",)]
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert all(cell.data_type != "f" for row in workbook.active.iter_rows() for cell in row)


def test_times_in_paris_time_and_text_never_a_link_nor_a_formula():
    moment = dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)
    data = xlsx_bytes(["Quand", "Site", "Oui", "Note"],
                      [[moment, "https://exemple.fr", True, 4.5]])
    [row] = _read(data)[1:]
    assert row == (dt.datetime(2026, 7, 1, 10, 30), "https://exemple.fr", True, 4.5)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.active["B2"].hyperlink is None
    assert workbook.active.freeze_panes == "A2"
    assert workbook.active["A1"].font.b
