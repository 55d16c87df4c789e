"""Running a job for a tick, once across every scheduler process."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from avis import clock
from avis.db import db
from avis.scheduler.jobs import JOBS, Job
from avis.scheduler.models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    job: str
    tick: dt.datetime
    #: done, failed, or skipped (another process had the tick)
    outcome: str
    summary: dict[str, object]


def run_job(job: Job, moment: dt.datetime | None = None) -> RunResult:
    """Run ``job`` for the tick of ``moment`` (now by default), unless some process
    already took that tick. Needs an application context."""
    tick = job.tick(moment or clock.now())
    run = JobRun(job=job.id, tick_dt=tick, started_dt=clock.now(), runner=_runner())
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return RunResult(job.id, tick, "skipped", {})
    try:
        summary: dict[str, object] = dict(job.func())
        outcome = "done"
    except Exception as error:  # a failed job must not stop the others
        db.session.rollback()
        # The type only: database errors hide their parameters, other messages may not.
        log.exception("job %s failed for tick %s", job.id, tick.isoformat())
        summary, outcome = {"error": type(error).__name__}, "failed"
    db.session.execute(
        sa.update(JobRun).where(JobRun.id == run.id)
        .values(finished_dt=clock.now(), outcome=outcome, summary=summary))
    db.session.commit()
    return RunResult(job.id, tick, outcome, summary)


def run_due(moment: dt.datetime | None = None) -> list[RunResult]:
    """Every job once, in order, for the ticks of ``moment``."""
    moment = moment or clock.now()
    return [run_job(job, moment) for job in JOBS]


def _runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]
