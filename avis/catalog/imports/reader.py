"""Reading trainee files: encoding, delimiter, header check, then rows in chunks.

The tokenizer is the standard library's ``csv`` module rather than
``pandas.read_csv``: pandas' fast reader can only drop or fail on a row with
too many or too few cells, and a dropped row is a trainee silently lost. Here
every row comes out with its line number, and a malformed one is rejected with
a reason; validation then works on whole pandas columns.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from avis.catalog.imports.formats import FORMATS, GENERIC_XLSX, PE, FileFormat

#: A cell longer than this is not data: the file is broken (an unclosed quote, usually).
MAX_CELL_BYTES = 1 << 20
_BLOCK = 1 << 20


class ImportFileError(Exception):
    """The file cannot be imported at all; the message is for the person who gave it."""


@dataclass
class Chunk:
    #: line number of each good row (the header is line 1)
    lines: list[int] = field(default_factory=list)
    #: cells of each good row, in header order
    rows: list[list[str]] = field(default_factory=list)
    #: rows that could not be split into the header's columns: (line, cells, reason)
    malformed: list[tuple[int, list[str], str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.malformed)


@dataclass
class TraineeFile:
    path: Path
    format: FileFormat
    #: SHA-256 of the file's bytes
    sha256: str
    #: size in bytes, for progress
    size: int
    #: column names as found in the header, normalised to lower case
    header: list[str]
    encoding: str | None = None
    delimiter: str | None = None

    def chunks(self, size: int, progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
        """Yield the data rows, ``size`` at a time; ``progress`` receives bytes or rows read."""
        if self.format == GENERIC_XLSX:
            yield from _xlsx_chunks(self, size, progress)
        else:
            yield from _text_chunks(self, size, progress)


def open_trainee_file(path: Path, format_name: str | None = None) -> TraineeFile:
    """Check that ``path`` can be imported and return how to read it.

    Raises ``ImportFileError`` (exit status 2) when it cannot: unreadable file,
    unknown encoding, or a required column missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"fichier introuvable : {path}")
    if format_name is None:
        format_name = _guess_format(path)
    if format_name not in FORMATS:
        raise ImportFileError(f"format inconnu : {format_name} (pe, csv ou xlsx)")
    file_format = FORMATS[format_name]
    sha256, encoding = _scan(path, detect_encoding=file_format != GENERIC_XLSX)
    size = path.stat().st_size
    if file_format == GENERIC_XLSX:
        header = _xlsx_header(path)
        trainee_file = TraineeFile(path, file_format, sha256, size, header)
    else:
        header, delimiter = _text_header(path, encoding, file_format)
        trainee_file = TraineeFile(path, file_format, sha256, size, header, encoding, delimiter)
    _check_header(trainee_file.header, file_format)
    return trainee_file


def _guess_format(path: Path) -> str:
    if path.suffix.lower() == ".xlsx":
        return "xlsx"
    with path.open("rb") as handle:
        first_line = handle.readline(64 * 1024).lower()
    return "pe" if b"c_adresseemail" in first_line else "csv"


def _scan(path: Path, *, detect_encoding: bool) -> tuple[str, str]:
    """Hash the file and find its encoding in one pass: UTF-8 (BOM or not), else Windows-1252."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    is_utf8 = True
    with path.open("rb") as handle:
        first = True
        while block := handle.read(_BLOCK):
            digest.update(block)
            if detect_encoding and is_utf8:
                try:
                    decoder.decode(block, final=False)
                except UnicodeDecodeError:
                    is_utf8 = False
            if first and detect_encoding and not block.strip():
                raise ImportFileError("le fichier est vide")
            first = False
        if first:
            raise ImportFileError("le fichier est vide")
        if detect_encoding and is_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                is_utf8 = False
    if not detect_encoding:
        return digest.hexdigest(), ""
    if is_utf8:
        return digest.hexdigest(), "utf-8-sig"  # utf-8-sig also reads files without a BOM
    try:
        with path.open("r", encoding="cp1252", newline="") as handle:
            while handle.read(_BLOCK):
                pass
    except UnicodeDecodeError:
        raise ImportFileError(
            "encodage non reconnu : le fichier doit être en UTF-8 ou en Windows-1252"
        ) from None
    return digest.hexdigest(), "cp1252"


def _normalise_header(cells: list[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]


def _text_header(path: Path, encoding: str, file_format: FileFormat) -> tuple[list[str], str]:
    with path.open("r", encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise ImportFileError("la première ligne doit contenir les noms des colonnes")
    best: tuple[int, list[str], str] | None = None
    for delimiter in file_format.delimiters:
        quoting = csv.QUOTE_MINIMAL if file_format.quoted else csv.QUOTE_NONE
        cells = next(csv.reader([first_line], delimiter=delimiter, quoting=quoting), [])
        header = _normalise_header(cells)
        known = len(set(header) & set(file_format.columns))
        if best is None or known > best[0]:
            best = (known, header, delimiter)
    assert best is not None
    return best[1], best[2]


def _check_header(header: list[str], file_format: FileFormat) -> None:
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise ImportFileError(f"colonne en double dans l'en-tête : {name}")
        seen.add(name)
    missing = [name for name in file_format.required if name not in seen]
    if missing:
        names = ", ".join(missing)
        if len(missing) == 1:
            raise ImportFileError(f"colonne obligatoire absente : {names}")
        raise ImportFileError(f"colonnes obligatoires absentes : {names}")


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from the file, for the progress bar."""

    def __init__(self, raw: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if count and self._progress:
            self._progress(count)
        return count


def _text_chunks(
    trainee_file: TraineeFile, size: int, progress: Callable[[int], None] | None
) -> Iterator[Chunk]:
    csv.field_size_limit(MAX_CELL_BYTES)
    width = len(trainee_file.header)
    quoting = csv.QUOTE_MINIMAL if trainee_file.format.quoted else csv.QUOTE_NONE
    with trainee_file.path.open("rb", buffering=0) as raw:
        counted = io.BufferedReader(_CountingReader(raw, progress), buffer_size=_BLOCK)
        text = io.TextIOWrapper(counted, encoding=trainee_file.encoding, newline="")
        reader = csv.reader(text, delimiter=trainee_file.delimiter or ",", quoting=quoting)
        try:
            next(reader)  # the header, already read
            chunk = Chunk()
            previous_line = reader.line_num
            for cells in reader:
                line = previous_line + 1
                previous_line = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line is not a row
                if len(cells) == width:
                    chunk.lines.append(line)
                    chunk.rows.append(cells)
                else:
                    reason = f"nombre de colonnes incorrect : {len(cells)} au lieu de {width}"
                    chunk.malformed.append((line, cells, reason))
                if len(chunk) >= size:
                    yield chunk
                    chunk = Chunk()
            if len(chunk):
                yield chunk
        except csv.Error as exc:
            raise ImportFileError(
                f"ligne {reader.line_num} illisible ({exc}) : le fichier est abîmé"
            ) from None


def _xlsx_header(path: Path) -> list[str]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(f"classeur Excel illisible : {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
    finally:
        workbook.close()
    if not first or not any(first):
        raise ImportFileError("la première ligne doit contenir les noms des colonnes")
    header = _normalise_header([_xlsx_cell(value) for value in first])
    while header and not header[-1]:
        header.pop()
    return header


def _xlsx_cell(value: object) -> str:
    """Excel gives typed cells; our validation reads text, as from a CSV file."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_chunks(
    trainee_file: TraineeFile, size: int, progress: Callable[[int], None] | None
) -> Iterator[Chunk]:
    import openpyxl

    width = len(trainee_file.header)
    workbook = openpyxl.load_workbook(trainee_file.path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        chunk = Chunk()
        for line, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_xlsx_cell(v) for v in values]
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if not any(c.strip() for c in cells):
                continue
            cells += [""] * (width - len(cells))
            if len(cells) == width:
                chunk.lines.append(line)
                chunk.rows.append(cells)
            else:
                reason = f"nombre de colonnes incorrect : {len(cells)} au lieu de {width}"
                chunk.malformed.append((line, cells, reason))
            if len(chunk) >= size:
                if progress:
                    progress(len(chunk))
                yield chunk
                chunk = Chunk()
        if len(chunk):
            if progress:
                progress(len(chunk))
            yield chunk
    finally:
        workbook.close()


__all__ = ["PE", "Chunk", "ImportFileError", "TraineeFile", "open_trainee_file"]
