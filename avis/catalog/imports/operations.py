"""Importing a trainee file: read, validate, write, report — one transaction per chunk.

A chunk's catalogue rows, trainees, enrolments and the run's counters are
committed together, so an import killed half-way leaves whole chunks only, and
running it again skips what is there (every write is an idempotent upsert).
"""

from __future__ import annotations

import csv
import getpass
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from avis import clock
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.catalog.imports.pipeline import prepared_chunks
from avis.catalog.imports.reader import (
    ImportFileError,
    TraineeFile,
    open_trainee_file,
)
from avis.catalog.imports.writer import RunState, write_rows
from avis.spreadsheets import neutralise


@dataclass
class ImportSummary:
    file_name: str
    dry_run: bool
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    #: where the rejected rows were written, when there were any
    rejected_path: Path | None = None
    seconds: float = 0.0
    import_run_id: int | None = None
    details: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary printed at the end of an import (French, for Region staff)."""
        def n(value: int) -> str:
            return f"{value:,}".replace(",", "\u202f")

        text = (
            f"{self.file_name} : {n(self.rows_read)} lignes lues, {n(self.imported)} importées, "
            f"{n(self.updated)} mises à jour, {n(self.unchanged)} inchangées, "
            f"{n(self.rejected)} rejetées"
        )
        if self.rejected_path:
            text += f" (motifs dans {self.rejected_path.name})"
        text += f", en {self.seconds:.1f} s".replace(".", ",")
        if self.dry_run:
            text += " — simulation : rien n'a été enregistré"
        return text


def rejected_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.csv")


def import_trainees(
    db_session: DbSession,
    path: Path,
    *,
    format_name: str | None = None,
    campaign: str | None = None,
    dry_run: bool = False,
    chunk_size: int = 5_000,
    progress: Callable[[TraineeFile], Callable[[int], None]] | None = None,
) -> ImportSummary:
    """Import ``path``; raise ``ImportFileError`` when it cannot be read at all."""
    started = time.monotonic()
    path = Path(path)
    trainee_file = open_trainee_file(path, format_name)
    campaign = (campaign or path.name)[:100]
    summary = ImportSummary(file_name=path.name, dry_run=dry_run)
    run = None if dry_run else _start_run(db_session, trainee_file, campaign)
    state = RunState()
    report = _RejectedRowsReport(rejected_path_for(path), trainee_file)
    tick = progress(trainee_file) if progress else None
    try:
        for prepared in prepared_chunks(trainee_file, chunk_size, tick):
            rows, rejected = prepared.rows, prepared.rejected
            counts = write_rows(db_session, rows, state, campaign=campaign,
                                import_run_id=run.id if run else None)
            summary.rows_read += prepared.rows_read
            summary.imported += counts.imported
            summary.updated += counts.updated
            summary.unchanged += counts.unchanged
            summary.rejected += len(rejected)
            summary.details = dict(state.details)
            if run is not None:
                _copy_counts(summary, run)
                db_session.commit()
            else:
                db_session.flush()
            report.add(rejected)
    except BaseException as exc:
        db_session.rollback()
        report.discard()
        if run is not None and not isinstance(exc, KeyboardInterrupt):
            _finish_run(db_session, run, ImportStatus.failed, error=_describe(exc))
        raise
    if dry_run:
        db_session.rollback()
    else:
        assert run is not None
        _finish_run(db_session, run, ImportStatus.completed)
        summary.import_run_id = run.id
    summary.rejected_path = report.close()
    summary.seconds = time.monotonic() - started
    return summary


def _describe(exc: BaseException) -> str:
    """What went wrong, for the import run's record, without the data that caused it.

    A database error's first line names the constraint, never the values (those
    follow on its DETAIL line); any other error is told by its type and place, as
    its message may quote a cell of the file.
    """
    if isinstance(exc, sa.exc.DBAPIError):
        return str(exc).splitlines()[0][:500]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


def _start_run(db_session: DbSession, trainee_file: TraineeFile, campaign: str) -> ImportRun:
    # A run of the same file still marked "running" was killed: a new one takes over.
    # (Not an upload's: the scheduler resumes those itself, under a lease.)
    db_session.execute(
        sa.update(ImportRun)
        .where(ImportRun.file_hash == trainee_file.sha256,
               ImportRun.status == ImportStatus.running, ImportRun.upload_dir.is_(None))
        .values(status=ImportStatus.interrupted, finished_dt=clock.now())
    )
    run = ImportRun(
        file_name=trainee_file.path.name[:255],
        file_hash=trainee_file.sha256,
        file_format=trainee_file.format.name,
        campaign=campaign,
        triggered_by=_operator()[:100],
        started_dt=clock.now(),
    )
    db_session.add(run)
    db_session.commit()
    return run


def _operator() -> str:
    try:
        return getpass.getuser()
    except OSError:  # no user name in a bare container
        return str(os.getuid())


def _copy_counts(summary: ImportSummary, run: ImportRun) -> None:
    run.rows_read = summary.rows_read
    run.imported = summary.imported
    run.updated = summary.updated
    run.unchanged = summary.unchanged
    run.rejected = summary.rejected
    run.details = dict(summary.details)


def _finish_run(
    db_session: DbSession, run: ImportRun, status: ImportStatus, error: str | None = None
) -> None:
    run = db_session.merge(run)
    run.status = status
    run.error = error
    run.finished_dt = clock.now()
    db_session.commit()


class _RejectedRowsReport:
    """``PATH.rejected.csv``: each refused row with its line number and reason.

    Written next to the input in the same layout (plus ``ligne`` and ``motif``
    first), so that staff can correct it and import it again: unknown columns
    are ignored on import. Written to a temporary name and renamed at the end,
    so a report on disk always belongs to a finished run.
    """

    def __init__(self, path: Path, trainee_file: TraineeFile) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".part")
        self.trainee_file = trainee_file
        self.count = 0
        self._handle = None
        self._writer = None

    def add(self, rejected: list[tuple[int, list[str], str]]) -> None:
        if not rejected:
            return
        if self._writer is None:
            self._handle = self.partial.open("w", encoding="utf-8-sig", newline="")
            delimiter = self.trainee_file.delimiter or ";"
            self._writer = csv.writer(self._handle, delimiter=delimiter,
                                      quoting=csv.QUOTE_MINIMAL)
            self._writer.writerow(["ligne", "motif", *self.trainee_file.header])
        for line, cells, reason in sorted(rejected, key=lambda item: item[0]):
            self._writer.writerow([line, reason, *(neutralise(c) for c in cells)])
        self.count += len(rejected)

    def close(self) -> Path | None:
        if self._handle is not None:
            self._handle.close()
            os.replace(self.partial, self.path)
            return self.path
        self.path.unlink(missing_ok=True)  # a report left by an earlier run is now wrong
        return None

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self.partial.unlink(missing_ok=True)


__all__ = ["ImportFileError", "ImportSummary", "import_trainees", "rejected_path_for"]
