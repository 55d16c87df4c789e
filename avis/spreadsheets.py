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


__all__ = ["FORMULA_STARTS", "FORMULA_START_PATTERN", "csv_text", "neutralise"]
