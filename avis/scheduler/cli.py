"""``avis jobs run-due`` and ``avis scheduler``."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext

from avis import clock


@click.group("jobs")
def jobs_group() -> None:
    """Periodic jobs: invitations, reminders, follow-ups, expiry, email dispatch."""


def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return clock.parse_instant(value)
    except ValueError:
        raise click.BadParameter(f"« {value} » n’est pas une date ISO 8601 "
                                 "(exemple : 2026-11-26T09:00:00+01:00)") from None


@jobs_group.command("run-due")
@click.option("--now", "moment", callback=_instant, metavar="ISO-8601",
              help="Run as if the clock said this instant.")
@with_appcontext
def run_due_command(moment: dt.datetime | None) -> None:
    """Run every due job once, then exit."""
    from avis.cli import progress_bar
    from avis.scheduler.jobs import JOBS
    from avis.scheduler.runner import run_job

    results = []
    with _clock(moment) as now:
        bar = progress_bar(len(JOBS), "job")
        try:
            for job in JOBS:
                bar.set_description(job.id)
                results.append(run_job(job, now))
                bar.update()
        finally:
            bar.close()
    parts = []
    for result in results:
        if result.outcome == "skipped":
            parts.append(f"{result.job} déjà fait")
        elif result.outcome == "failed":
            parts.append(f"{result.job} ÉCHEC ({result.summary.get('error')})")
        else:
            figures = ", ".join(f"{k} {v}" for k, v in result.summary.items()) or "rien à faire"
            parts.append(f"{result.job} : {figures}")
    click.echo("; ".join(parts))
    if any(result.outcome == "failed" for result in results):
        raise SystemExit(1)


@contextlib.contextmanager
def _clock(moment: dt.datetime | None) -> Iterator[dt.datetime]:
    if moment is None:
        yield clock.now()
        return
    with clock.frozen_at(moment):
        yield moment


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """The long-running scheduler process (several may run against PostgreSQL)."""
    from avis.scheduler.process import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    scheduler = build_scheduler(current_app._get_current_object(),  # type: ignore[attr-defined]
                                blocking=True)

    def stop(_signum: int, _frame: object) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo("planificateur démarré (Ctrl+C pour arrêter)")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
