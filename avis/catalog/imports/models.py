from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, CodeList


class ImportStatus(enum.StrEnum):
    #: a file uploaded in the back office, waiting for the scheduler
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    #: a later run of the same file found this one still "running": it was killed
    interrupted = "interrupted"
    #: stopped by staff from the back office (whole chunks already written stay)
    cancelled = "cancelled"


class ImportRun(Base):
    """One execution of ``avis import trainees``, or one trainee file uploaded in the
    back office and imported by the scheduler (``avis.monitoring.uploads``): what was
    read and what it did."""

    __tablename__ = "import_runs"

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: file name without its directory
    file_name: Mapped[str] = mapped_column(sa.String(255))
    #: SHA-256 of the file's bytes, to recognise a file imported again
    file_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: import format: pe, csv or xlsx
    file_format: Mapped[str] = mapped_column(sa.String(8))
    #: campaign name given to new enrolments (defaults to the file name)
    campaign: Mapped[str] = mapped_column(sa.String(100))
    #: where the run is
    status: Mapped[ImportStatus] = mapped_column(
        sa.Enum(ImportStatus, native_enum=False, length=16, validate_strings=True,
                create_constraint=True),
        default=ImportStatus.running,
    )
    #: data rows read so far (header excluded)
    rows_read: Mapped[int] = mapped_column(default=0)
    #: rows that created a new enrolment
    imported: Mapped[int] = mapped_column(default=0)
    #: rows that changed an existing trainee or enrolment
    updated: Mapped[int] = mapped_column(default=0)
    #: rows already in the database as they are
    unchanged: Mapped[int] = mapped_column(default=0)
    #: rows refused, listed with reasons in the rejected-rows file
    rejected: Mapped[int] = mapped_column(default=0)
    #: training bodies, courses, actions and sessions created/updated, e.g. {"sessions_created": 3}
    details: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    #: the operating-system user who ran the import
    triggered_by: Mapped[str] = mapped_column(sa.String(100))
    #: why the run failed, when it did
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: when the run started
    started_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the run ended (completed or failed)
    finished_dt: Mapped[dt.datetime | None]

    # --- uploads in the back office (all None/0 for a command-line run) ------------
    #: the staff account that uploaded the file
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    #: the région the upload is limited to (its uploader's); None: national (admin)
    region_code: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    #: funder codes the upload is limited to (its uploader's); empty: every funder
    funder_codes: Mapped[list[int]] = mapped_column(CodeList, default=list)
    #: folder of the stored file and its rejected rows, under the instance's ``uploads``
    upload_dir: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: size of the uploaded file in bytes
    file_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: rows per chunk of this run: a resumed attempt must cut the file where the
    #: killed one did, whatever the setting says meanwhile
    chunk_size: Mapped[int | None]
    #: attempts of the scheduler at this upload; the current one's number fences off a
    #: process that lost its lease and still writes
    attempts: Mapped[int] = mapped_column(default=0)
    #: the running attempt's hold on the run: renewed at every chunk; once past, the
    #: process is presumed dead and the next tick takes the run up again
    lease_until_dt: Mapped[dt.datetime | None]
    #: bytes of the rejected-rows file that belong to committed chunks (a resumed
    #: attempt cuts the file back to this length)
    rejects_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    @property
    def is_upload(self) -> bool:
        return self.upload_dir is not None

    @property
    def is_finished(self) -> bool:
        return self.status not in (ImportStatus.queued, ImportStatus.running)

    @property
    def seconds(self) -> float | None:
        """How long the run took (so far, while it runs)."""
        if self.status == ImportStatus.queued:
            return None
        end = self.finished_dt or clock.now()
        return (end - self.started_dt).total_seconds()
