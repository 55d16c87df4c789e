"""XLSX workbooks of a million rows, written as a stream of Arrow tables.

openpyxl's write-only mode makes a Python object of every cell and writes it through its
XML library (over 200 s for the million rows of the open-data export, 12 to 15 times the
CSV);
XlsxWriter's constant-memory mode still costs a few Python calls per cell. Here a table
of rows becomes its sheet XML column by column with Arrow's string kernels, whole
columns at a time, then row by row in one more call: no Python work per cell.

Each sheet's XML goes to a temporary file beside the workbook and is deflated into the
package when the sheet is complete, as openpyxl does: the zip entry's size is then
known, so its headers use ZIP64 only past 2 GiB of XML, and the local and central
headers agree (``force_zip64`` on a stream of unknown size would put ZIP64 in the local
header alone, which some readers, libarchive for one, take for a damaged file).
LibreOffice 7.4 opens the 966,559 rows of the benchmark and reads every cell as the CSV
has it; openpyxl reads them too.

What the sheets hold, as Excel and openpyxl write it: text as inline strings (no
shared-string table to keep in memory), integers, decimals and floats as numbers,
booleans as booleans, every row and cell with its reference; a sheet's first row may be
frozen. Text must come without the control characters that XML 1.0 forbids (the caller
decides what becomes of them); ``&``, ``<``, ``>`` and carriage returns are escaped here,
and ``xml:space="preserve"`` keeps the spaces at a text's ends.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import pyarrow.compute as pc

#: Rows turned into XML at a time: their XML (~1.3 kB a row in the open data, 100 kB
#: for the longest texts) must stay within the 2 GiB of an Arrow string array, and the
#: memory small.
ROWS_AT_A_TIME = 10_000
#: Deflate level of the package: the XML shrinks ten times at level 1 already; level 6
#: (zipfile's and openpyxl's) saves another 12 % for three times the time (1.2 GB of
#: XML: 3.3 s and 127 MB, against 9.7 s and 111 MB).
COMPRESS_LEVEL = 1

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FROZEN_HEADER = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
                  'topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                  '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                  '</sheetView></sheetViews>')
_PLAIN_VIEW = '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
_SHEET_END = ('</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
              'header="0.5" footer="0.5"/></worksheet>')
#: The least a stylesheet holds for Excel: one font, the two fills it reserves, one
#: border, the "Normal" style.
_STYLES = (f'{_XML}<styleSheet xmlns="{_MAIN}">'
           '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
           '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
           '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
           'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
           'fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
           '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_TYPES = {
    "workbook": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "sheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "styles": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "core": "application/vnd.openxmlformats-package.core-properties+xml",
    "app": "application/vnd.openxmlformats-officedocument.extended-properties+xml",
}
#: Text that XML must not hold as typed, and what stands for it. A carriage return
#: would be read back as a line feed (XML parsers normalise line ends).
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))


def column_letters(index: int) -> str:
    """The letters of the 0-based column ``index``: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _text_bytes(values: pa.Array) -> pa.Buffer:
    """The UTF-8 bytes of a string array's values, end to end: its data buffer, less
    what lies outside a slice. Not copied."""
    _validity, offsets, data = values.buffers()
    if data is None:
        return pa.py_buffer(b"")
    bounds = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, offsets],
                                   offset=values.offset)
    return data[bounds[0].as_py():bounds[-1].as_py()]


def holds_any(values: pa.Array | pa.ChunkedArray, characters: Iterable[str]) -> bool:
    """Whether a text of ``values`` holds one of ``characters``: their bytes searched end
    to end (copied, then ``memchr``), many times faster than a kernel over each text."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        found = _text_bytes(chunk).to_pybytes()
        if any(character.encode() in found for character in characters):
            return True
    return False


#: What one value of a row becomes: the pieces of its ``<c>`` element, to join with the
#: others of the row, scalars or arrays of one piece a row.
_Pieces = list[pa.Array | str]


def _cells(values: pa.Array, letters: str, rows: pa.Array) -> _Pieces:
    """The ``<c>`` elements of ``values`` in the column ``letters``. A value left empty
    (null, or an empty text) must have no element at all: then the elements are made
    here, null where empty; otherwise their pieces go into the row's join as they are
    (one copy of the XML less)."""
    kind = values.type
    reference = f'<c r="{letters}'
    empty = None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text, found = values, _text_bytes(values).to_pybytes()
        for character, escaped in _ESCAPES:
            if character.encode() in found:  # seldom: a replacement costs more
                text = pc.replace_substring(text, character, escaped)
        lengths = pc.binary_length(values)
        # Spaces at either end change the length when trimmed: the fastest test found
        # (a regular expression takes five times as long).
        spaced = pc.not_equal(pc.binary_length(pc.utf8_trim_whitespace(values)), lengths)
        opening = pc.if_else(spaced, '" t="inlineStr"><is><t xml:space="preserve">',
                             '" t="inlineStr"><is><t>')
        pieces: _Pieces = [reference, rows, opening, text, "</t></is></c>"]
        if pc.min(lengths).as_py() == 0:
            empty = pc.equal(lengths, 0)
    elif pa.types.is_boolean(kind):
        pieces = [reference, rows, '" t="b"><v>', values.cast(pa.int8()).cast(pa.string()),
                  "</v></c>"]
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        pieces = [reference, rows, '"><v>', values.cast(pa.string()), "</v></c>"]
    else:
        raise TypeError(f"no XLSX cell for {kind} values")
    if not values.null_count and empty is None:
        return pieces
    cells = pc.binary_join_element_wise(*pieces, "")  # null where the value is
    return [cells if empty is None else pc.if_else(empty, None, cells)]


def rows_xml(table: pa.Table, first_row: int) -> Iterator[pa.Buffer]:
    """The ``<row>`` elements of ``table``, the first numbered ``first_row`` (1-based), as
    buffers of UTF-8 XML to write one after the other."""
    letters = [column_letters(i) for i in range(table.num_columns)]
    for batch in table.to_batches(max_chunksize=ROWS_AT_A_TIME):
        rows = pa.array(range(first_row, first_row + batch.num_rows), pa.int64()).cast(
            pa.string())
        first_row += batch.num_rows
        pieces = [piece for i, column in enumerate(batch.columns)
                  for piece in _cells(column, letters[i], rows)]
        xml = pc.binary_join_element_wise('<row r="', rows, '">', *pieces, "</row>", "",
                                          null_handling="replace", null_replacement="")
        yield _text_bytes(xml)


def text_table(rows: Sequence[Sequence[str | None]]) -> pa.Table:
    """Rows of text (a header, a small sheet) as a table for ``append``."""
    width = max((len(row) for row in rows), default=0)
    return pa.table({str(i): pa.array([row[i] if i < len(row) else None for row in rows],
                                      pa.string()) for i in range(width)})


class StreamingWorkbook:
    """A workbook written sheet after sheet, a table of rows at a time.

    ``start_sheet`` then ``append`` as often as needed, and ``close`` once (or ``abandon``
    to leave no temporary file behind). Rows go to disk as they come: the memory is
    that of the tables given, whatever the number of rows.
    """

    def __init__(self, path: Path, *, created_dt: dt.datetime | None = None,
                 compress_level: int = COMPRESS_LEVEL) -> None:
        self.path = path
        self.created_dt = created_dt
        self.archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                       compresslevel=compress_level)
        self.sheets: list[str] = []
        self.rows = 0
        self.spool: IO[bytes] | None = None

    def start_sheet(self, name: str, *, freeze_header: bool = False) -> None:
        """A new sheet, the next rows' (the previous one is complete). Excel wants a
        name of at most 31 characters, none of ``[]:*?/\\``, unique in the workbook."""
        self._end_sheet()
        handle, spool = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                         suffix=".sheet.part")
        self.spool = os.fdopen(handle, "w+b")
        os.unlink(spool)  # gone with its handle, whatever happens
        self.sheets.append(name)
        self.rows = 0
        self.spool.write((f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
                          + (_FROZEN_HEADER if freeze_header else _PLAIN_VIEW)
                          + '<sheetFormatPr defaultRowHeight="15"/><sheetData>').encode())

    def append(self, table: pa.Table) -> None:
        """The rows of ``table`` after the sheet's previous rows, one cell per column."""
        if self.spool is None:
            raise RuntimeError("start a sheet first")
        for buffer in rows_xml(table, self.rows + 1):
            self.spool.write(buffer)
        self.rows += table.num_rows

    def _end_sheet(self) -> None:
        if self.spool is None:
            return
        spool, self.spool = self.spool, None
        with spool:
            spool.write(_SHEET_END.encode())
            spool.flush()
            spool.seek(0)
            # ZIP64 headers only when the size needs them, as zipfile decides for a file
            # of known size.
            size = os.fstat(spool.fileno()).st_size
            with self.archive.open(f"xl/worksheets/sheet{len(self.sheets)}.xml", "w",
                                   force_zip64=size * 1.05 > zipfile.ZIP64_LIMIT) as entry:
                while block := spool.read(1 << 22):
                    entry.write(block)

    def close(self) -> None:
        """Finish the last sheet and write the parts that list them."""
        self._end_sheet()
        count = len(self.sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPES["sheet"]}"/>'
            for n in range(1, count + 1))
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                         for n, name in enumerate(self.sheets, start=1))
        sheet_links = "".join(
            f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, count + 1))
        created = (self.created_dt or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = {
            "[Content_Types].xml": (
                f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                f'ContentType="{_TYPES["workbook"]}"/>{overrides}<Override '
                f'PartName="/xl/styles.xml" ContentType="{_TYPES["styles"]}"/><Override '
                f'PartName="/docProps/core.xml" ContentType="{_TYPES["core"]}"/><Override '
                f'PartName="/docProps/app.xml" ContentType="{_TYPES["app"]}"/></Types>'),
            "_rels/.rels": (
                f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}"><Relationship '
                f'Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
                f'<Relationship Id="rId2" Type="{_PACKAGE_RELATIONSHIPS}/metadata/'
                'core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" '
                f'Type="{_RELATIONSHIPS}/extended-properties" Target="docProps/app.xml"/>'
                '</Relationships>'),
            "docProps/app.xml": (
                f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                '2006/extended-properties"><Application>avis</Application></Properties>'),
            "docProps/core.xml": (
                f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
                'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
                'elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>avis'
                '</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
                f'{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">'
                f'{stamp}</dcterms:modified></cp:coreProperties>'),
            "xl/workbook.xml": (
                f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><bookViews>'
                f'<workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                '</workbook>'),
            "xl/_rels/workbook.xml.rels": (
                f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">{sheet_links}'
                f'<Relationship Id="rId{count + 1}" Type="{_RELATIONSHIPS}/styles" '
                'Target="styles.xml"/></Relationships>'),
            "xl/styles.xml": _STYLES,
        }
        for name, text in parts.items():
            self.archive.writestr(name, text.encode())
        self.archive.close()

    def abandon(self) -> None:
        """Close what is open, after a failure (the caller removes the workbook)."""
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        self.archive.close()


__all__ = ["COMPRESS_LEVEL", "ROWS_AT_A_TIME", "StreamingWorkbook", "column_letters",
           "holds_any", "rows_xml", "text_table"]
