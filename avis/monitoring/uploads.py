"""Trainee files uploaded in the back office, imported by the scheduler.

An upload is an ``ImportRun`` in status ``queued`` whose file sits in a folder of its
own under the instance's ``uploads/`` (a random name; never a name the uploader chose).
The job ``import_uploads`` claims one run at a time under a lease and imports it chunk
by chunk, with the same reader, validation and writer as ``avis import trainees``; each
chunk's commit carries its counts and renews the lease.

A process that dies mid-import leaves its lease to run out; the next tick takes the run
up again. The chunks already committed stay, with their counts, and the rejected-rows
file is cut back to what those chunks wrote. The file is then read again from the
start: the committed chunks are written again — nothing changes, an import is
idempotent — but not counted, so that the run remembers which row first named each
session and trainee exactly as if it had never stopped; the remaining chunks are
written and counted. Every commit checks that the run is still this attempt's
(``attempts`` is the fencing token): a cancelled run, or one taken over after its lease
ran out, stops the old process without anything counted twice.

Uploads by region staff are limited to their région (and funders): a row whose place of
training is elsewhere, or whose session is already known in another région, is rejected
with its reason, like any invalid row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import secrets
import shutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.accounts.models import Account, Role
from avis.audit.operations import SYSTEM, record
from avis.catalog.geo import REGION_NAMES
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.db import db
from avis.spreadsheets import neutralise

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from avis.catalog.imports.pipeline import Prepared
    from avis.catalog.imports.reader import TraineeFile

#: How long a run stays its process's without a sign of life (a chunk takes a second).
LEASE = dt.timedelta(minutes=3)
#: A file that kills its importer this many times is given up, as failed.
MAX_ATTEMPTS = 3
#: The stored file's name in its folder: only the extension says anything.
INPUT_STEM = "fichier"
REJECTS_NAME = "rejets.csv"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class UploadError(Exception):
    """An upload refused; the message (French) is for the person who sent the file."""


def uploads_root() -> Path:
    return Path(current_app.instance_path) / "uploads"


def folder_of(run: ImportRun) -> Path:
    assert run.upload_dir is not None
    return uploads_root() / run.upload_dir


def keep_days() -> int:
    """How long a finished upload's folder (its rejected rows) is kept: the setting
    ``UPLOAD_RETENTION_DAYS``, which the privacy notice states."""
    return current_app.config["UPLOAD_RETENTION_DAYS"]


def max_upload_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024


# --- uploading ------------------------------------------------------------------------

def store_upload(upload: FileStorage, *, account: Account, format_name: str | None,
                 campaign: str | None) -> ImportRun:
    """Keep ``upload`` in a new folder, check that it can be imported, and queue it.

    Raises ``UploadError`` (and leaves nothing behind) when the file cannot be imported
    at all. The run and its journal event are added to the session; the caller commits,
    and calls ``discard`` if the commit fails.
    """
    from avis.catalog.imports.reader import ImportFileError, open_trainee_file

    display_name = _display_name(upload.filename or "")
    folder = uploads_root() / secrets.token_hex(16)
    folder.mkdir(parents=True)
    try:
        partial = folder / f"{INPUT_STEM}.part"
        upload.save(partial)
        size = partial.stat().st_size
        if size == 0:
            raise UploadError("le fichier est vide")
        format_name = format_name or _sniff_format(partial, display_name)
        path = partial.rename(folder / f"{INPUT_STEM}.{'xlsx' if format_name == 'xlsx' else 'txt'}")
        try:
            trainee_file = open_trainee_file(path, format_name)
            _check_has_rows(trainee_file)
        except ImportFileError as exc:
            raise UploadError(str(exc)) from None
        _check_not_in_progress(trainee_file.sha256)
        region = account.region_code if account.role == Role.region else None
        run = ImportRun(
            file_name=display_name,
            file_hash=trainee_file.sha256,
            file_format=trainee_file.format.name,
            campaign=(campaign or display_name)[:100],
            status=ImportStatus.queued,
            triggered_by=account.email[:100],
            account_id=account.id,
            region_code=region,
            funder_codes=list(account.funder_codes or ()) if region else [],
            upload_dir=folder.name,
            file_size=size,
            started_dt=clock.now(),
        )
        db.session.add(run)
        db.session.flush()
        record("import.uploaded", object_type="import_run", object_id=run.id, actor=account,
               changes={"file_name": display_name, "format": run.file_format,
                        "bytes": size, "region": region})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return run


def discard(run: ImportRun) -> None:
    """Remove an upload's folder (its commit failed, or it is too old to keep)."""
    if run.upload_dir:
        shutil.rmtree(folder_of(run), ignore_errors=True)


def _display_name(name: str) -> str:
    """The uploader's file name, shown on pages and never used as a path."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if c.isprintable() else " " for c in name).strip()
    return name[:255] or "fichier sans nom"


def _sniff_format(path: Path, name: str) -> str | None:
    """xlsx when the bytes are a zip (whatever the name says); None lets the reader tell
    the France Travail export from our CSV by its header."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC) or name.lower().endswith(".xls"):
        raise UploadError("les classeurs Excel 97-2003 (.xls) ne sont pas lus : "
                          "enregistrez-le au format .xlsx ou CSV")
    return None


def _check_has_rows(trainee_file: TraineeFile) -> None:
    """A first row can be read; for a workbook, every part of it is whole (its checksums
    are right), so that the import does not stop half-way on a damaged file."""
    from avis.catalog.imports.reader import ImportFileError

    if trainee_file.format.name == "xlsx":
        import zipfile

        try:
            with zipfile.ZipFile(trainee_file.path) as workbook:
                damaged = workbook.testzip()
        except Exception:  # zipfile raises several kinds for a damaged archive
            damaged = "?"
        if damaged is not None:
            raise UploadError("le classeur Excel est abîmé : enregistrez-le à nouveau depuis "
                              "Excel, puis déposez-le")
    chunks = trainee_file.chunks(1)
    try:
        first = next(chunks, None)
    except ImportFileError:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds for a damaged workbook
        raise UploadError("le fichier est abîmé : ses lignes ne peuvent pas être lues") from None
    finally:
        chunks.close()
    if first is None:
        raise UploadError("le fichier ne contient que l’en-tête : aucun stagiaire à importer")


def _check_not_in_progress(sha256: str) -> None:
    waiting = db.session.scalar(
        sa.select(ImportRun.id).where(
            ImportRun.file_hash == sha256, ImportRun.upload_dir.is_not(None),
            ImportRun.status.in_((ImportStatus.queued, ImportStatus.running))).limit(1))
    if waiting is not None:
        raise UploadError(f"ce fichier est déjà en attente ou en cours d’import "
                          f"(import n° {waiting})")


def cancel(run: ImportRun) -> None:
    """Stop an upload waiting or being imported: the chunks already written stay (they
    are whole and correct); the importing process notices at its next chunk."""
    if run.is_finished:
        raise UploadError("cet import est déjà terminé")
    run.status = ImportStatus.cancelled
    run.finished_dt = clock.now()
    run.lease_until_dt = None
    record("import.cancelled", object_type="import_run", object_id=run.id,
           changes={"file_name": run.file_name, "rows_read": run.rows_read})


def forget_input(run: ImportRun) -> None:
    """Delete the uploaded file once its run has ended: its trainees are in the
    database now, under its retention rules; the rejected rows stay a while."""
    if run.upload_dir:
        for path in folder_of(run).glob(f"{INPUT_STEM}.*"):
            path.unlink(missing_ok=True)


# --- the rejected rows ----------------------------------------------------------------

def may_read_rejects(run: ImportRun, account: Account) -> bool:
    """The rejected rows hold the file's names and emails: for whoever uploaded it, and
    for staff an admin granted the reading of personal data."""
    return run.is_upload and (run.account_id == account.id or account.can_see_personal_data)


#: What the rejected-rows download holds when no row was rejected.
NO_REJECTS = "\ufeffligne;motif\r\n".encode()


def has_rejects(run: ImportRun) -> bool:
    """Whether the run wrote rejected rows that are still kept."""
    return bool(run.upload_dir and run.rejects_size
                and (folder_of(run) / REJECTS_NAME).exists())


def rejects_bytes(run: ImportRun) -> bytes | None:
    """The rejected-rows CSV as far as committed chunks wrote it; None when there is none
    (no rejected row, or deleted after ``keep_days()``)."""
    if not run.upload_dir or not run.rejects_size:
        return None
    path = folder_of(run) / REJECTS_NAME
    try:
        with path.open("rb") as handle:
            return handle.read(run.rejects_size)
    except FileNotFoundError:
        return None


class _RejectsFile:
    """``rejets.csv``: each refused row with its line and reason, then the file's cells.

    As French spreadsheets open it (UTF-8 with BOM, ``;``, CRLF), cells neutralised.
    Appended chunk by chunk and synced before the chunk's commit, which records its
    length: a resumed attempt cuts the file back to that length.
    """

    def __init__(self, path: Path, header: list[str], committed: int) -> None:
        self.path = path
        self.header = header
        self.size = committed
        self._handle: BinaryIO | None = None
        if path.exists():  # written by an attempt that died: keep what it committed
            self._handle = path.open("r+b")
            self._handle.truncate(committed)
            self._handle.seek(committed)

    def add(self, rejected: list[tuple[int, list[str], str]]) -> None:
        if not rejected:
            return
        if self._handle is None:
            self._handle = self.path.open("w+b")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        if self.size == 0:
            buffer.write("\ufeff")
            writer.writerow(["ligne", "motif", *self.header])
        for line, cells, reason in sorted(rejected, key=lambda item: item[0]):
            writer.writerow([line, neutralise(reason), *(neutralise(c) for c in cells)])
        self._handle.write(buffer.getvalue().encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.size = self._handle.tell()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


# --- the scope of an upload -----------------------------------------------------------

class _RegionScreen:
    """Refuses the rows an upload's région may not write: a place of training in another
    région, a session another région already has, or (for staff limited to some
    funders) a session none of their funders pays for."""

    def __init__(self, run: ImportRun) -> None:
        assert run.region_code is not None
        self.region = run.region_code
        self.funders = {str(code) for code in run.funder_codes or ()}
        name = REGION_NAMES.get(self.region, self.region)
        self.outside = f"lieu de formation hors de la région {name} (département "

    def __call__(self, prepared: Prepared) -> Prepared:
        import pandas as pd

        rows = prepared.rows
        if rows.empty:
            return prepared
        reasons = pd.Series(pd.NA, index=rows.index, dtype="str")
        if self.funders:
            theirs = rows["funders"].fillna("").str.split(";").map(
                lambda codes: not self.funders.intersection(codes))
            reasons = reasons.mask(theirs.astype(bool),
                                   "aucun financeur de la session parmi ceux de votre compte")
        elsewhere = self._known_elsewhere(rows["session_external_id"].tolist())
        if elsewhere:
            reasons = reasons.mask(rows["session_external_id"].isin(elsewhere),
                                   "session déjà enregistrée dans une autre région")
        outside = (rows["region_code"] != self.region).fillna(True)
        reasons = reasons.mask(outside, self.outside + rows["departement"].fillna("?") + ")")
        refused = reasons.notna().to_numpy()
        if not refused.any():
            return prepared
        assert prepared.source is not None
        position = {line: i for i, line in enumerate(prepared.source.lines)}
        lines = rows["line"][refused].tolist()
        cells = prepared.source.cells([position[line] for line in lines])
        prepared.rejected = prepared.rejected + list(
            zip(lines, cells, reasons[refused].tolist(), strict=True))
        prepared.rows = rows[~refused].reset_index(drop=True)
        return prepared

    def _known_elsewhere(self, external_ids: list[str]) -> set[str]:
        from avis.catalog.models.sessions import Session

        found: set[str] = set()
        unique = sorted(set(external_ids))
        for start in range(0, len(unique), 1000):
            found.update(db.session.scalars(
                sa.select(Session.external_id).where(
                    Session.external_id.in_(unique[start:start + 1000]),
                    Session.region_code != self.region)))
        return found


# --- the job --------------------------------------------------------------------------

class _LostRun(Exception):
    """The run is no longer this attempt's: cancelled, or taken over by another process."""


def import_uploads() -> dict[str, int]:
    """Import every uploaded file waiting, and take up those whose importer died."""
    summary: Counter[str] = Counter()
    summary["given_up"] = _give_up_repeated_failures()
    while (claimed := claim_next()) is not None:
        run_id, attempt = claimed
        status = import_claimed(run_id, attempt)
        summary[str(status)] += 1
    summary["folders_removed"] = remove_old_folders()
    return {key: value for key, value in summary.items() if value}


def _claimable(now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        ImportRun.upload_dir.is_not(None),
        sa.or_(ImportRun.status == ImportStatus.queued,
               sa.and_(ImportRun.status == ImportStatus.running,
                       ImportRun.lease_until_dt < now, ImportRun.attempts < MAX_ATTEMPTS)))


def claim_next() -> tuple[int, int] | None:
    """Take the oldest upload waiting (or whose lease ran out): (run id, attempt number)."""
    now = clock.now()
    while True:
        # PostgreSQL skips the rows another process is claiming; SQLite, which cannot,
        # lets both pick the same run, and the loser's conditional UPDATE finds it taken.
        run_id = db.session.scalar(
            sa.select(ImportRun.id).where(_claimable(now)).order_by(ImportRun.id).limit(1)
            .with_for_update(skip_locked=True))
        if run_id is None:
            db.session.rollback()
            return None
        attempt = db.session.scalar(
            sa.update(ImportRun).where(ImportRun.id == run_id, _claimable(now))
            .values(status=ImportStatus.running, attempts=ImportRun.attempts + 1,
                    lease_until_dt=now + LEASE,
                    started_dt=sa.case((ImportRun.attempts == 0,
                                        sa.literal(now, ImportRun.__table__.c.started_dt.type)),
                                       else_=ImportRun.started_dt),
                    chunk_size=sa.func.coalesce(ImportRun.chunk_size,
                                                current_app.config["IMPORT_CHUNK_SIZE"]))
            .returning(ImportRun.attempts))
        db.session.commit()
        if attempt is not None:
            return run_id, attempt


def _give_up_repeated_failures() -> int:
    """A run whose importer died ``MAX_ATTEMPTS`` times (a file that exhausts the memory,
    say) is not tried for ever."""
    now = clock.now()
    given_up = db.session.execute(
        sa.update(ImportRun).where(
            ImportRun.upload_dir.is_not(None), ImportRun.status == ImportStatus.running,
            ImportRun.lease_until_dt < now, ImportRun.attempts >= MAX_ATTEMPTS)
        .values(status=ImportStatus.failed, finished_dt=now, lease_until_dt=None,
                error=f"l’import s’est interrompu {MAX_ATTEMPTS} fois : abandonné")
        .returning(ImportRun.id)).scalars().all()
    for run_id in given_up:
        record("import.given_up", object_type="import_run", object_id=run_id,
               actor_role=SYSTEM)
    db.session.commit()
    for run in db.session.scalars(sa.select(ImportRun).where(ImportRun.id.in_(given_up))):
        forget_input(run)
    return len(given_up)


def _fenced(run_id: int, attempt: int) -> sa.Update:
    return sa.update(ImportRun).where(ImportRun.id == run_id, ImportRun.attempts == attempt,
                                      ImportRun.status == ImportStatus.running)


def import_claimed(run_id: int, attempt: int) -> ImportStatus | str:
    """Import (or resume) the claimed run; return how it ended (``lost`` when another
    process or a cancellation took it meanwhile)."""
    from avis.catalog.imports.operations import _describe
    from avis.catalog.imports.reader import ImportFileError

    run = db.session.get(ImportRun, run_id)
    assert run is not None
    try:
        _import(run, attempt)
    except _LostRun:
        db.session.rollback()
        return "lost"
    except Exception as exc:  # recorded on the run; the other uploads go on
        db.session.rollback()
        error = str(exc) if isinstance(exc, ImportFileError) else _describe(exc)
        ended = _end(run, attempt, ImportStatus.failed, error)
        return ImportStatus.failed if ended else "lost"
    if not _end(run, attempt, ImportStatus.completed):
        return "lost"
    from avis.public.search import index_changes_since

    # New bodies, courses and places searchable at once, as after a command-line import
    # (the rows of an earlier attempt of this run included).
    index_changes_since(run.started_dt)
    return ImportStatus.completed


def _end(run: ImportRun, attempt: int, status: ImportStatus, error: str | None = None) -> bool:
    ended = db.session.execute(
        _fenced(run.id, attempt).values(status=status, error=error, finished_dt=clock.now(),
                                        lease_until_dt=None)).rowcount
    db.session.commit()
    db.session.expire(run)
    if ended:
        forget_input(run)
    return bool(ended)


def _import(run: ImportRun, attempt: int) -> None:
    from avis.catalog.imports.pipeline import prepared_chunks
    from avis.catalog.imports.reader import open_trainee_file
    from avis.catalog.imports.writer import RunState, write_rows

    folder = folder_of(run)
    inputs = sorted(folder.glob(f"{INPUT_STEM}.*"))
    if not inputs:
        from avis.catalog.imports.reader import ImportFileError

        raise ImportFileError("le fichier déposé n’est plus là")
    trainee_file = open_trainee_file(inputs[0], run.file_format)
    screen = _RegionScreen(run) if run.region_code else None
    # What earlier attempts committed: kept, never counted again.
    committed = run.rows_read
    totals = {name: getattr(run, name)
              for name in ("rows_read", "imported", "updated", "unchanged", "rejected")}
    details: Counter[str] = Counter(run.details or {})
    replayed = 0
    state = RunState()
    rejects = _RejectsFile(folder / REJECTS_NAME, trainee_file.header, run.rejects_size)
    try:
        assert run.chunk_size
        for prepared in prepared_chunks(trainee_file, run.chunk_size, None,
                                        keep_source=screen is not None):
            if screen is not None:
                prepared = screen(prepared)
            counts = write_rows(db.session, prepared.rows, state, campaign=run.campaign,
                                import_run_id=run.id)
            values: dict[str, object] = {"lease_until_dt": clock.now() + LEASE}
            if replayed < committed:
                replayed += prepared.rows_read
                if replayed > committed:
                    raise RuntimeError("a resumed import cut its file elsewhere")
                state.details.clear()  # written again, not counted again
            else:
                rejects.add(prepared.rejected)
                totals["rows_read"] += prepared.rows_read
                totals["imported"] += counts.imported
                totals["updated"] += counts.updated
                totals["unchanged"] += counts.unchanged
                totals["rejected"] += len(prepared.rejected)
                details.update(state.details)
                state.details.clear()
                values.update(totals, details=dict(details), rejects_size=rejects.size)
            if not db.session.execute(_fenced(run.id, attempt).values(**values)).rowcount:
                raise _LostRun
            db.session.commit()
    finally:
        rejects.close()


def remove_old_folders() -> int:
    """Rejected rows are personal data: gone ``keep_days()`` after their run ended, with
    the uploaded file if it is still there. Also a folder left by an upload whose request
    failed before its run was saved. Run by the minute's import job and by the daily
    ``apply_retention``.

    The folders on disk are few (a month of uploads): they are listed, not the runs of
    every year."""
    root = uploads_root()
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not names:
        return 0
    ended = dict(db.session.execute(
        sa.select(ImportRun.upload_dir, ImportRun.finished_dt)
        .where(ImportRun.upload_dir.in_(names))).all())
    now = clock.now()
    kept_after_end = dt.timedelta(days=keep_days())
    removed = 0
    for name in names:
        if name in ended:
            finished = ended[name]
            if finished is None or finished > now - kept_after_end:
                continue
        else:
            # Its request may still be saving the run: only a day-old orphan goes.
            changed = dt.datetime.fromtimestamp((root / name).stat().st_mtime, dt.UTC)
            if changed > now - dt.timedelta(days=1):
                continue
        shutil.rmtree(root / name, ignore_errors=True)
        removed += 1
    return removed
