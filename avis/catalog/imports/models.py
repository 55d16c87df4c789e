from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base


class ImportStatus(enum.StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"
    #: a later run of the same file found this one still "running": it was killed
    interrupted = "interrupted"


class ImportRun(Base):
    """One execution of ``avis import trainees``: what was read and what it did."""

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
