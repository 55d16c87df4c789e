"""Files that people open in a spreadsheet: cells that must stay text.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula
(and, after a tab, a carriage return or a line feed, some still do): a trainee's
comment or a name in an import file could then compute, fetch a URL or run a command
on the reader's machine (CSV injection). Every text cell that avis writes to a CSV or
XLSX file goes through :func:`neutralise`: such a cell is prefixed with ``'``, the
spreadsheets' own mark for "this is text".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: Spreadsheets run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

#: The same rule as a regular expression (RE2 and Python syntax), for whole columns.
FORMULA_START_PATTERN = r"^([=+\-@\t\r\n])"


def neutralise(cell: str) -> str:
    """``cell``, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document as French spreadsheets open it: UTF-8 with BOM, ``;``, CRLF; text
    cells neutralised, empty cells for None."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(str(cell)) for cell in header])
    for row in rows:
        writer.writerow(["" if cell is None else
                         neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]],
               sheet: str = "avis") -> bytes:
    """An XLSX workbook of one sheet: the header in bold and frozen, then the rows; text
    cells neutralised (a leading ``'`` in a cell is shown, as in the CSV), numbers and
    dates as such. Written row by row (openpyxl's write-only mode), so a 100,000-row
    list never holds a sheet of cell objects in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for title in header:
        cell = WriteOnlyCell(worksheet, value=neutralise(str(title)))
        cell.font = bold
        titles.append(cell)
    worksheet.append(titles)
    for row in rows:
        worksheet.append([neutralise(_printable(cell)) if isinstance(cell, str) else cell
                          for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: Control characters an XLSX cell cannot hold (XML 1.0 forbids them); openpyxl raises
#: on them, and a comment pasted from elsewhere may carry one.
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)], None)


def _printable(cell: str) -> str:
    return cell.translate(_ILLEGAL)


#: The media types of the two downloads.
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


__all__ = ["CSV_TYPE", "FORMULA_STARTS", "FORMULA_START_PATTERN", "XLSX_TYPE", "csv_text",
           "neutralise", "xlsx_bytes"]
