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
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from avis.catalog.imports.formats import FORMATS, GENERIC_XLSX, FileFormat

#: Control characters have no place in a cell (and the bulk writer uses two as separators):
#: they become spaces. In a block of lines, line feeds stay.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINE_FEED = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _spaced(text: str, pattern: re.Pattern[str] = _CONTROL) -> str:
    return pattern.sub(" ", text) if pattern.search(text) else text

#: A cell longer than this is not data: the file is broken (an unclosed quote, usually).
MAX_CELL_BYTES = 1 << 20
_BLOCK = 1 << 20


class ImportFileError(Exception):
    """The file cannot be imported at all; the message is for the person who gave it."""


@dataclass
class Chunk:
    """Rows of the file as read: text cells, never containing control characters."""

    #: line number of each good row (the header is line 1)
    lines: list[int]
    #: the good rows, one ``str`` column per header column
    frame: pd.DataFrame
    #: rows that could not be split into the header's columns: (line, cells, reason)
    malformed: list[tuple[int, list[str], str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines) + len(self.malformed)

    def cells(self, positions: list[int]) -> list[list[str]]:
        """The cells of the good rows at ``positions``, for the rejected-rows report."""
        if not positions:
            return []
        picked = self.frame.iloc[positions]
        columns = [picked[name].tolist() for name in picked.columns]
        return [list(row) for row in zip(*columns, strict=True)]

    @classmethod
    def from_rows(cls, header: list[str], lines: list[int], rows: list[list[str]],
                  malformed: list[tuple[int, list[str], str]]) -> Chunk:
        frame = pd.DataFrame(rows, columns=header, dtype="str") if rows else pd.DataFrame(
            {name: pd.Series([], dtype="str") for name in header})
        return cls(lines, frame, malformed)


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
        elif self.format.quoted:
            yield from _text_chunks(self, size, progress)
        else:
            yield from _unquoted_chunks(self, size, progress)


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
    """Quoted CSV: the ``csv`` module, which knows quotes and line breaks inside cells."""
    csv.field_size_limit(MAX_CELL_BYTES)
    builder = _ChunkBuilder(trainee_file.header, size)
    with trainee_file.path.open("rb", buffering=0) as raw:
        counted = io.BufferedReader(_CountingReader(raw, progress), buffer_size=_BLOCK)
        text = io.TextIOWrapper(counted, encoding=trainee_file.encoding, newline="")
        reader = csv.reader(text, delimiter=trainee_file.delimiter or ",")
        try:
            next(reader)  # the header, already read
            previous_line = reader.line_num
            for cells in reader:
                line = previous_line + 1
                previous_line = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line is not a row
                if chunk := builder.add(line, [_spaced(cell) for cell in cells]):
                    yield chunk
            if chunk := builder.flush():
                yield chunk
        except csv.Error as exc:
            raise ImportFileError(
                f"ligne {reader.line_num} illisible ({exc}) : le fichier est abîmé"
            ) from None


def _unquoted_chunks(
    trainee_file: TraineeFile, size: int, progress: Callable[[int], None] | None
) -> Iterator[Chunk]:
    """Unquoted delimited text (the France Travail export): split by Arrow, in C.

    Each chunk of ``size`` lines is decoded as one string, split into lines and
    cells by Arrow, and becomes pandas columns without a Python object per cell.
    """
    delimiter = trainee_file.delimiter or "|"
    # The header was decoded with "utf-8-sig"; the lines after it have no BOM.
    encoding = "utf-8" if trainee_file.encoding == "utf-8-sig" else trainee_file.encoding
    with trainee_file.path.open("rb") as raw:
        header_bytes = raw.readline()
        if progress:
            progress(len(header_bytes))
        next_line = 2
        while True:
            block = list(itertools.islice(raw, size))
            if not block:
                return
            data = b"".join(block)
            if progress:
                progress(len(data))
            text = _spaced(data.decode(encoding).replace("\r\n", "\n"), _CONTROL_BUT_LINE_FEED)
            yield _split_lines(text, next_line, trainee_file.header, delimiter)
            next_line += len(block)


def _split_lines(text: str, first_line: int, header: list[str], delimiter: str) -> Chunk:
    width = len(header)
    if text.endswith("\n"):
        text = text[:-1]
    line_texts = pc.list_flatten(pc.split_pattern(pa.array([text], pa.large_string()), "\n"))
    cells = pc.split_pattern(line_texts, delimiter)
    counts = pc.list_value_length(cells).to_numpy()
    blank = (counts == 1) & (pc.utf8_length(pc.utf8_trim_whitespace(line_texts)).to_numpy() == 0)
    good = counts == width
    numbers = np.arange(first_line, first_line + len(counts))
    malformed = [
        (int(numbers[i]), cells[i].as_py(), _width_reason(int(counts[i]), width))
        for i in np.flatnonzero(~good & ~blank)
    ]
    flat = pc.list_flatten(cells.filter(pa.array(good)))
    starts = np.arange(int(good.sum()), dtype=np.int64) * width
    frame = pd.DataFrame(
        {name: pd.array(flat.take(pa.array(starts + j)), dtype="str")
         for j, name in enumerate(header)},
    )
    return Chunk(numbers[good].tolist(), frame, malformed)


class _ChunkBuilder:
    """Collects rows of cells into chunks of ``size`` rows, sorting out malformed ones."""

    def __init__(self, header: list[str], size: int) -> None:
        self.header = header
        self.size = size
        self._reset()

    def _reset(self) -> None:
        self.lines: list[int] = []
        self.rows: list[list[str]] = []
        self.malformed: list[tuple[int, list[str], str]] = []

    def add(self, line: int, cells: list[str]) -> Chunk | None:
        """Add a row; return a full chunk when there is one."""
        if len(cells) == len(self.header):
            self.lines.append(line)
            self.rows.append(cells)
        else:
            self.malformed.append((line, cells, _width_reason(len(cells), len(self.header))))
        return self.flush() if len(self.lines) + len(self.malformed) >= self.size else None

    def flush(self) -> Chunk | None:
        if not self.lines and not self.malformed:
            return None
        chunk = Chunk.from_rows(self.header, self.lines, self.rows, self.malformed)
        self._reset()
        return chunk


def _width_reason(found: int, width: int) -> str:
    return f"nombre de colonnes incorrect : {found} au lieu de {width}"


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
    builder = _ChunkBuilder(trainee_file.header, size)
    workbook = openpyxl.load_workbook(trainee_file.path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_spaced(_xlsx_cell(v)) for v in values]
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if not any(c.strip() for c in cells):
                continue
            cells += [""] * (width - len(cells))
            if chunk := builder.add(line, cells):
                if progress:
                    progress(len(chunk))
                yield chunk
        if chunk := builder.flush():
            if progress:
                progress(len(chunk))
            yield chunk
    finally:
        workbook.close()


__all__ = ["Chunk", "ImportFileError", "TraineeFile", "open_trainee_file"]
