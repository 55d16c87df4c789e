"""The APScheduler process: ``avis scheduler``, or in ``avis serve --with-scheduler``.

APScheduler only fires; whether the work is done once is decided by the database
(``runner.run_job``'s unique tick), so several scheduler processes are safe on
PostgreSQL. The job store is in memory: the job list is code, rebuilt at each start.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from avis.scheduler.jobs import BY_ID, JOBS

log = logging.getLogger(__name__)

#: The application the fired jobs run in (one per process).
_app: Flask | None = None
#: Jobs are aligned on whole periods since this instant, like their ticks.
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def fire(job_id: str) -> None:
    """What APScheduler calls: run one job for the current tick, in an app context."""
    from avis.scheduler.runner import run_job

    assert _app is not None, "build_scheduler() sets the application"
    with _app.app_context():
        result = run_job(BY_ID[job_id])
    if result.outcome != "skipped":
        log.info("%s %s %s %s", job_id, result.tick.isoformat(), result.outcome, result.summary)


def catch_up() -> None:
    """Run every job once, in order, at start: what a stopped process missed is done
    before the periodic runs, and creation comes before the dispatch that sends it."""
    for job_id in BY_ID:
        fire(job_id)


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """A scheduler with every job: blocking for ``avis scheduler``, in a background
    thread for ``avis serve --with-scheduler``."""
    global _app
    _app = app
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=dt.UTC)
    scheduler.add_job(catch_up, id="catch_up", name="catch_up", replace_existing=True,
                      next_run_time=dt.datetime.now(dt.UTC), misfire_grace_time=None)
    for job in JOBS:
        scheduler.add_job(
            fire,
            IntervalTrigger(seconds=job.every.total_seconds(), start_date=_EPOCH,
                            timezone=dt.UTC),
            args=[job.id],
            id=job.id,
            name=job.id,
            replace_existing=True,
            # One run at a time per process; other processes are kept off by the tick.
            max_instances=1,
            # After downtime, one catch-up run rather than one per missed tick: every
            # job works on "what is due now", so a single run covers them all.
            coalesce=True,
            # A run late by less than its period still happens; later, the next tick
            # does the work.
            misfire_grace_time=int(job.every.total_seconds()),
        )
    return scheduler
