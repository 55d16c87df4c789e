"""The open-data export of reviews: CSV, XLSX and Parquet files for everyone.

One row per end-of-training answer: its marks (the five and the exact overall), whether
the trainee would recommend the course, the month of the answer (never the day), the
comment and the body's reply only when the public pages show them
(``avis.public.reviews.is_shown``), and what the answer is about: course, action,
training body, place, funders, funding scheme. Nothing about the trainee, no receipt, no
exact date; the answers of sessions with fewer than ``MIN_SESSION_SIZE`` enrolled
trainees are left out, as they must never be published on their own. Rows come month
after month, and within a month by body, course, action and session, then by their
content: their order says nothing of when each answer came. The columns are
``dictionary.COLUMNS``.

How: one consistent read (a REPEATABLE READ, read-only transaction on PostgreSQL). The
catalogue (bodies, courses, actions, sessions) is read once; the answers are streamed
day by day in chunks (a server-side cursor); a month's answers are gathered, put in
order and joined to the catalogue in Arrow (one month in memory at a time), then each
chunk goes to every file being written: a Parquet row group, CSV lines appended, XLSX
rows turned into their sheet's XML in Arrow (``avis.opendata.xlsx``). Each file is
written under a temporary name in its folder and renamed only when every file is
complete: a reader never sees a partial file, and a failed export leaves the previous
files in place.

XLSX sheets hold 1,048,576 rows: beyond 1,048,575 reviews (one row is the header), the
rest continues in a sheet "avis 2", and so on.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import errno
import functools
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.catalog.funders import FUNDER_LABELS
from avis.catalog.geo import DEPARTEMENT_NAMES, REGION_NAMES
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.opendata.dictionary import (
    COLUMNS,
    LICENCE,
    LIST_SEPARATOR,
    dictionary_csv,
    dictionary_rows,
)
from avis.opendata.files import (
    FORMATS,
    data_file_name,
    dictionary_file_name,
    open_data_folder,
    record_in_manifest,
)
from avis.opendata.xlsx import StreamingWorkbook, holds_any, text_table
from avis.public.reviews import is_shown, shown_statuses
from avis.spreadsheets import FORMULA_STARTS, XML_ILLEGAL_PATTERN
from avis.surveys.models.answers import DIMENSIONS, Answer, Reply

#: Answers read, joined and written at a time: a few tens of megabytes in memory.
CHUNK_SIZE = 20_000
#: Catalogue rows read at a time (as Python tuples, before they become Arrow columns).
_CATALOGUE_CHUNK = 10_000
#: Data rows of an XLSX sheet: 1,048,576 rows, less the header.
XLSX_MAX_ROWS = 1_048_575
#: Sorting a million answers by day stays in memory (PostgreSQL's default is 4 MB).
PG_WORK_MEM = "128MB"

_ARROW_TYPES = {"text": pa.string(), "month": pa.string(), "list": pa.string(),
                "mark": pa.int8(), "decimal": pa.decimal128(2, 1), "boolean": pa.bool_()}
#: The files' columns, each with its descriptions (kept in Parquet's field metadata).
SCHEMA = pa.schema([
    pa.field(c.name, _ARROW_TYPES[c.type],
             metadata={"description": c.description_fr, "description_en": c.description_en})
    for c in COLUMNS])


class ExportError(Exception):
    """A file cannot be written; the message says why, in French, for the operator."""


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    format: str
    size: int


@dataclass
class ExportSummary:
    #: when the data was read (UTC)
    generated_dt: dt.datetime
    rows: int = 0
    files: list[ExportedFile] = field(default_factory=list)
    dictionaries: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """The one-line summary printed at the end of an export (French, for staff)."""
        names = ", ".join(f.path.name for f in self.files)
        size = sum(f.size for f in self.files)
        text = (f"{names} : {_count(self.rows)} avis exportés ({_megabytes(size)})")
        if self.dictionaries:
            text += ", dictionnaire dans " + ", ".join(p.name for p in self.dictionaries)
        return text + f", en {self.seconds:.1f} s".replace(".", ",")


def _count(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",")


def export_open_data() -> dict[str, int]:
    """The scheduled export: every format, and the dictionary, into ``<instance>/opendata``."""
    folder = open_data_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"le dossier {folder} ne peut pas être créé : "
                          f"{_problem(exc, folder / 'x')}") from exc
    summary = export_reviews({f: folder / data_file_name(f) for f in FORMATS})
    return {"rows": summary.rows, "files": len(summary.files) + len(summary.dictionaries)}


def default_path(format_name: str) -> Path:
    return open_data_folder() / data_file_name(format_name)


def count_reviews() -> int:
    """How many rows an export would write now (for a progress bar)."""
    public = _public_sessions()
    with _snapshot() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(Answer)
            .join(public, public.c.session_id == Answer.session_id)).scalar_one()


def export_reviews(targets: Mapping[str, Path], *, chunk_size: int = CHUNK_SIZE,
                   progress: Callable[[int], None] | None = None,
                   xlsx_max_rows: int = XLSX_MAX_ROWS) -> ExportSummary:
    """Write the reviews to each ``format → path`` of ``targets``, and the dictionary
    next to them (``<stem>-dictionnaire.csv``). Needs an application context; raises
    ``ExportError`` when a file cannot be written (then no file is left behind)."""
    started = time.monotonic()
    summary = ExportSummary(generated_dt=clock.now())
    kinds: dict[str, Callable[[Path, ExportSummary], _Output]] = {
        "csv": _CsvOutput, "parquet": _ParquetOutput,
        "xlsx": functools.partial(_XlsxOutput, max_rows=xlsx_max_rows)}
    outputs: list[_Output] = []
    try:
        for format_name, path in targets.items():
            if path.is_dir():
                raise ExportError(f"{path} est un dossier : indiquez un fichier")
            with _writing(path):
                outputs.append(kinds[format_name](path, summary))
        with _snapshot() as connection:
            for table in _review_tables(connection, chunk_size):
                for output in outputs:
                    with _writing(output.path):
                        output.write(table)
                summary.rows += table.num_rows
                if progress:
                    progress(table.num_rows)
        for folder, stem in sorted({(o.path.parent, o.path.stem) for o in outputs}):
            path = folder / dictionary_file_name(stem)
            with _writing(path):
                outputs.append(_DictionaryOutput(path, summary))
        for output in outputs:
            with _writing(output.path):
                output.close()
        # The dictionaries first: should one fail, the data files stay as they were.
        for output in sorted(outputs, key=lambda o: not isinstance(o, _DictionaryOutput)):
            with _writing(output.path):
                output.commit()
    finally:
        for output in outputs:
            output.discard()
    summary.files = [ExportedFile(o.path, o.format, o.size) for o in outputs
                     if not isinstance(o, _DictionaryOutput)]
    summary.dictionaries = [o.path for o in outputs if isinstance(o, _DictionaryOutput)]
    _record(outputs, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _record(outputs: Sequence[_Output], summary: ExportSummary) -> None:
    """Row counts in the manifest of the public folder, for the files written there."""
    folder = open_data_folder()
    mine = [o for o in outputs if o.path.parent.resolve() == folder.resolve()]
    if not mine:
        return
    generated = summary.generated_dt.isoformat()
    entries = {o.path.name: {"size": o.size, "generated_dt": generated,
                             **({} if isinstance(o, _DictionaryOutput) else
                                {"rows": summary.rows})} for o in mine}
    with contextlib.suppress(OSError):  # the files are there: the page shows them anyway
        record_in_manifest(folder, entries)


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An ``OSError`` while writing ``path``, told in French."""
    try:
        yield
    except OSError as exc:
        raise ExportError(f"{path} ne peut pas être écrit : {_problem(exc, path)}") from exc


def _problem(exc: OSError, path: Path) -> str:
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        return f"{folder} n’est pas un dossier"
    if isinstance(exc, FileNotFoundError) and not folder.exists():
        return f"le dossier {folder} n’existe pas"
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return f"{path.name} est un dossier"
    if isinstance(exc, PermissionError):
        return f"écriture refusée dans le dossier {folder}"
    if exc.errno == errno.ENOSPC:
        return "plus de place sur le disque"
    return exc.strerror or type(exc).__name__


# Reading ------------------------------------------------------------------------------

def _public_sessions() -> Any:
    """Sessions with at least ``MIN_SESSION_SIZE`` enrolled trainees, counted now."""
    return (sa.select(Enrolment.session_id).group_by(Enrolment.session_id)
            .having(sa.func.count() >= current_app.config["MIN_SESSION_SIZE"])
            .subquery("public_sessions"))


@contextlib.contextmanager
def _snapshot() -> Iterator[sa.Connection]:
    """A connection of its own whose statements all see the same data."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True)
            connection.execute(sa.text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
            # Compiling the statement to machine code costs more than it saves.
            connection.execute(sa.text("SET LOCAL jit = off"))
        try:
            yield connection
        finally:
            connection.rollback()


def _answers_query(public: Any) -> Any:
    """The answers of public sessions, day by day; the comment, its title and the reply
    only where the pages show them (the rest never leaves the database)."""
    shown = is_shown()
    reply_shown = sa.and_(Reply.answer_id == Answer.id, Reply.status.in_(shown_statuses()))
    return (sa.select(Answer.answered_on, *(getattr(Answer, d) for d in DIMENSIONS),
                      Answer.overall, Answer.would_recommend,
                      sa.case((shown, Answer.comment_title)),
                      sa.case((shown, Answer.comment_text)), sa.case((shown, Reply.text)),
                      Answer.session_id, Answer.action_id, Answer.course_id,
                      Answer.training_body_id)
            .join(public, public.c.session_id == Answer.session_id)
            .outerjoin(Reply, reply_shown)
            .where(Answer.excluded_reason.is_(None))
            # Months come one after the other; within a month ``_sorted_month`` orders.
            .order_by(Answer.answered_on))


@dataclass(frozen=True)
class _Dimension:
    """Rows of the catalogue by id, to join to the answers in Arrow."""

    ids: pa.Array
    table: pa.Table

    @classmethod
    def read(cls, connection: sa.Connection, query: Any, names: Sequence[str],
             convert: Callable[[Sequence[Any]], Sequence[Any]] | None = None) -> _Dimension:
        """The rows of ``query`` (an id, then one value per name, possibly ``convert``ed),
        read in chunks: a catalogue's worth of Python tuples would cost hundreds of MB."""
        ids, tables = [pa.array([], pa.int64())], [pa.table(
            {name: pa.array([], pa.string()) for name in names})]
        result = connection.execution_options(yield_per=_CATALOGUE_CHUNK).execute(query)
        for rows in result.partitions():
            columns = list(zip(*(map(convert, rows) if convert else rows), strict=True))
            ids.append(pa.array(columns[0], pa.int64()))
            tables.append(pa.table({name: pa.array(values, pa.string()) for name, values in
                                    zip(names, columns[1:], strict=True)}))
        return cls(pa.concat_arrays(ids), pa.concat_tables(tables).combine_chunks())

    def lookup(self, ids: pa.Array) -> pa.Table:
        positions = pc.index_in(ids, value_set=self.ids)
        if positions.null_count:
            raise RuntimeError("an answer refers to a catalogue row that was not read")
        return self.table.take(positions).combine_chunks()


def _joined(codes: Iterable[Any] | None) -> str | None:
    """A list column's value; an empty list is an empty cell (null in Parquet)."""
    return LIST_SEPARATOR.join(str(code) for code in codes or ()) or None


class _Catalogue:
    """The catalogue, read once and joined to each chunk of answers in Arrow."""

    def __init__(self, connection: sa.Connection) -> None:
        self.bodies = _Dimension.read(
            connection, sa.select(TrainingBody.id, TrainingBody.siret, TrainingBody.name),
            ("siret_formateur", "raison_sociale_formateur"))
        self.courses = _Dimension.read(
            connection, sa.select(Course.id, Course.numero, Course.title, Course.formacodes,
                                  Course.certifinfos),
            ("formation_numero", "formation_intitule", "formacodes", "certifinfos"),
            lambda row: (*row[:3], _joined(row[3]), _joined(row[4])))
        self.actions = _Dimension.read(connection, sa.select(Action.id, Action.numero),
                                       ("action_numero",))
        # Funder lists as their JSON text: a few distinct values, decoded once each.
        labels: dict[str | None, tuple[str | None, str | None]] = {}

        def session(row: Sequence[Any]) -> Sequence[Any]:
            id_, postcode, city, departement, region, funders, scheme = row
            if funders not in labels:
                codes = json.loads(funders) if funders else []
                labels[funders] = (_joined(codes),
                                   _joined(FUNDER_LABELS.get(c, str(c)) for c in codes))
            return (id_, postcode, city, departement, DEPARTEMENT_NAMES.get(departement),
                    region, REGION_NAMES.get(region), *labels[funders], scheme)

        self.sessions = _Dimension.read(
            connection, sa.select(Session.id, Session.postcode, Session.city,
                                  Session.departement, Session.region_code,
                                  sa.cast(Session.funders, sa.String), Session.funding_scheme),
            ("code_postal", "ville", "departement_code", "departement_nom", "region_code",
             "region_nom", "financeurs", "financeurs_libelles", "dispositif"), session)

    def complete(self, answers: pa.Table) -> pa.Table:
        """The files' rows: ``answers`` (from ``_answers``) joined to the catalogue."""
        columns = dict(zip(answers.column_names, answers.columns, strict=True))
        for dimension, key in ((self.courses, "_course"), (self.actions, "_action"),
                               (self.bodies, "_body"), (self.sessions, "_session")):
            found = dimension.lookup(answers[key])
            columns.update(zip(found.column_names, found.columns, strict=True))
        return pa.Table.from_arrays([columns[c.name] for c in COLUMNS], schema=SCHEMA)


def _answers(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """A chunk of the answers query as Arrow columns: the files' own columns of the
    answers, and the catalogue's ids (``_course``…)."""
    columns = list(zip(*rows, strict=True))
    answered_on, marks, (overall, recommend, title, text, reply) = (
        columns[0], columns[1:6], columns[6:11])
    ids = columns[11:]
    return pa.table({
        # "2026-03-14" → "2026-03" (four times faster than strftime)
        "mois": pc.utf8_slice_codeunits(pa.array(answered_on, pa.date32()).cast(pa.string()),
                                        0, 7),
        **{c.name: pa.array(values, pa.int8())
           for c, values in zip(COLUMNS[1:6], marks, strict=True)},
        "note_globale": pa.array(overall, pa.decimal128(2, 1)),
        "recommande": pa.array(recommend, pa.bool_()),
        "commentaire_titre": pa.array(title, pa.string()),
        "commentaire": pa.array(text, pa.string()),
        "reponse_organisme": pa.array(reply, pa.string()),
        **{key: pa.array(values, pa.int64()) for key, values in zip(
            ("_session", "_action", "_course", "_body"), ids, strict=True)},
    })


def _review_tables(connection: sa.Connection, chunk_size: int) -> Iterator[pa.Table]:
    """The files' rows, month after month, in tables of at most ``chunk_size`` rows."""
    catalogue = _Catalogue(connection)
    result = connection.execution_options(yield_per=chunk_size).execute(
        _answers_query(_public_sessions()))
    month: list[pa.Table] = []
    for rows in result.partitions():
        table = _answers(rows)
        months = table["mois"]
        found = pc.unique(months).to_pylist()  # in order: the rows come day by day
        for value in found:
            part = table if len(found) == 1 else table.filter(pc.equal(months, value))
            if month and month[0]["mois"][0].as_py() != value:
                yield from _sorted_month(month, catalogue, chunk_size)
                month = []
            month.append(part)
    if month:
        yield from _sorted_month(month, catalogue, chunk_size)


#: The order of the rows within a month: what they are about (the catalogue's ids, which
#: say when the catalogue was imported, not when anyone answered), then their content,
#: so that rows tied on every key are identical and the order tells nothing of time.
_SORT = [(name, "ascending", "at_start") for name in (
    "_body", "_course", "_action", "_session", *(c.name for c in COLUMNS[1:6]),
    "recommande", "commentaire_titre", "commentaire", "reponse_organisme")]


def _sorted_month(parts: list[pa.Table], catalogue: _Catalogue,
                  chunk_size: int) -> Iterator[pa.Table]:
    """A month's rows, put in order and cut in chunks (one month at a time in memory)."""
    month = pa.concat_tables(parts).sort_by(_SORT)
    for offset in range(0, month.num_rows, chunk_size):
        yield catalogue.complete(month.slice(offset, chunk_size))


# Writing ------------------------------------------------------------------------------

#: What a spreadsheet runs as a formula when a text starts with it.
_FORMULA_STARTS = pa.array(FORMULA_STARTS)
#: The characters of ``XML_ILLEGAL_PATTERN``, looked for before anything is replaced.
_XML_ILLEGAL = [chr(code) for code in range(0x20)
                if re.fullmatch(XML_ILLEGAL_PATTERN, chr(code))]


def _neutralised(column: pa.ChunkedArray | pa.Array) -> Any:
    """Text cells a spreadsheet would run as formulas, prefixed with ``'`` (their first
    characters compared: three times faster than a regular expression over each text,
    and nothing copied when no text needs it)."""
    runs = pc.is_in(pc.utf8_slice_codeunits(column, 0, 1), value_set=_FORMULA_STARTS)
    if not pc.any(runs).as_py():
        return column
    return pc.if_else(runs, pc.binary_join_element_wise("'", column, ""), column)


def _for_csv(table: pa.Table) -> pa.Table:
    """Text neutralised, the overall with a decimal comma, booleans as 1 and 0."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type):
            column = _neutralised(column)
        elif pa.types.is_decimal(column.type):
            column = pc.replace_substring(column.cast(pa.string()), ".", ",")
        elif pa.types.is_boolean(column.type):
            column = column.cast(pa.int8())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _for_xlsx(table: pa.Table) -> pa.Table:
    """Text without the characters XML cannot hold (rare: looked for first), then
    neutralised."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type):
            if holds_any(column, _XML_ILLEGAL):
                column = pc.replace_substring_regex(column, XML_ILLEGAL_PATTERN, "")
            column = _neutralised(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class _Output(abc.ABC):
    """A file written under a temporary name in its folder, renamed by ``commit``."""

    format = ""

    def __init__(self, path: Path, summary: ExportSummary) -> None:
        self.path = path
        self.summary = summary
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                        suffix=".part")
        os.close(handle)
        self.temporary = Path(name)
        self.size = 0
        self.committed = False
        self.open()

    def open(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """Start the temporary file (formats that need to)."""

    @abc.abstractmethod
    def write(self, table: pa.Table) -> None:
        """Append one table of rows (each format its own way)."""

    def close(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """Finish the temporary file."""

    def commit(self) -> None:
        self.size = self.temporary.stat().st_size
        os.chmod(self.temporary, 0o644)  # public data, served by another user maybe
        os.replace(self.temporary, self.path)
        self.committed = True

    def abandon(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """Release what ``close`` would have, when the export failed before it."""

    def discard(self) -> None:
        if not self.committed:
            with contextlib.suppress(Exception):
                self.abandon()
            self.temporary.unlink(missing_ok=True)


class _ParquetOutput(_Output):
    format = "parquet"

    def open(self) -> None:
        metadata = {"licence": LICENCE, "source": "avis",
                    "generated_dt": self.summary.generated_dt.isoformat()}
        self.writer = pq.ParquetWriter(self.temporary, SCHEMA.with_metadata(metadata),
                                       compression="zstd")

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)  # a row group per chunk

    def close(self) -> None:
        self.writer.close()

    def abandon(self) -> None:
        self.writer.close()


class _CsvOutput(_Output):
    """UTF-8 with BOM, ``;`` and a decimal comma: what French spreadsheets expect."""

    format = "csv"

    def open(self) -> None:
        self.handle = self.temporary.open("wb")
        header = ";".join(SCHEMA.names)
        self.handle.write(("\ufeff" + header + "\r\n").encode("utf-8"))
        self.writer: pa_csv.CSVWriter | None = None

    def write(self, table: pa.Table) -> None:
        table = _for_csv(table)
        if self.writer is None:
            self.writer = pa_csv.CSVWriter(self.handle, table.schema, write_options=(
                pa_csv.WriteOptions(include_header=False, delimiter=";",
                                    quoting_style="needed", eol="\r\n")))
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.handle.close()

    def abandon(self) -> None:
        self.handle.close()


class _XlsxOutput(_Output):
    """Rows streamed into the sheets' XML (``avis.opendata.xlsx``: whole columns at a time
    in Arrow; 1.5 to 1.8 times the CSV's time, where openpyxl took 12 to 15), to disk as
    they come; a sheet "avis N" more each ``max_rows`` rows, each with its header frozen;
    the dictionary in a last sheet."""

    format = "xlsx"

    def __init__(self, path: Path, summary: ExportSummary, *, max_rows: int) -> None:
        self.max_rows = max_rows
        super().__init__(path, summary)

    def open(self) -> None:
        self.book = StreamingWorkbook(self.temporary, created_dt=self.summary.generated_dt)
        self.in_sheet = self.max_rows  # the first rows start a sheet

    def _next_sheet(self) -> None:
        number = len(self.book.sheets) + 1
        self.book.start_sheet("avis" if number == 1 else f"avis {number}",
                              freeze_header=True)
        self.book.append(_for_xlsx(text_table([SCHEMA.names])))
        self.in_sheet = 0

    def write(self, table: pa.Table) -> None:
        table = _for_xlsx(table)
        while table.num_rows:
            if self.in_sheet >= self.max_rows:
                self._next_sheet()
            part = table.slice(0, self.max_rows - self.in_sheet)
            self.book.append(part)
            self.in_sheet += part.num_rows
            table = table.slice(part.num_rows)

    def close(self) -> None:
        if not self.book.sheets:
            self._next_sheet()
        self.book.start_sheet("dictionnaire")
        self.book.append(_for_xlsx(text_table(
            dictionary_rows(current_app.config["MIN_SESSION_SIZE"]))))
        self.book.close()

    def abandon(self) -> None:
        self.book.abandon()


class _DictionaryOutput(_Output):
    format = "csv"

    def write(self, table: pa.Table) -> None:
        """The dictionary describes the columns: the rows are not its business."""

    def close(self) -> None:
        self.temporary.write_bytes(dictionary_csv(current_app.config["MIN_SESSION_SIZE"]))


__all__ = ["CHUNK_SIZE", "SCHEMA", "XLSX_MAX_ROWS", "ExportError", "ExportSummary",
           "count_reviews", "default_path", "export_open_data", "export_reviews"]
