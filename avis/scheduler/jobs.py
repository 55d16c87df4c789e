"""The periodic jobs, in the order ``run-due`` runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from avis.accounts import jobs as account_jobs
from avis.bodies import notifications as body_notifications
from avis.moderation import jobs as moderation_jobs
from avis.moderation import statistics as moderation_statistics
from avis.monitoring import alerts
from avis.surveys import jobs as survey_jobs

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def dispatch_outbox() -> dict[str, int]:
    """Send every due email."""
    from avis.mail.dispatch import dispatch

    return dispatch()


def aggregate_scores() -> dict[str, int]:
    """Recompute the scores touched by new answers, follow-ups and invitation changes."""
    from avis.scores.aggregate import refresh

    return refresh()


def recompute_scores() -> dict[str, int]:
    """Rebuild every score: catches what ``refresh`` cannot see (a session moved to
    another département, enrolments and invitations removed by an erasure)."""
    from avis.scores.aggregate import recompute_all

    return recompute_all()


def refresh_monitoring_counts() -> dict[str, int]:
    """Count again the funnel of the sessions touched since the previous run."""
    from avis.monitoring.funnel import refresh

    return refresh()


def rebuild_monitoring_counts() -> dict[str, int]:
    """Count the whole funnel again: catches what the refresh cannot see (sessions moved,
    rows removed by an erasure)."""
    from avis.monitoring.funnel import rebuild

    return rebuild()


def import_uploads() -> dict[str, int]:
    """Import the trainee files uploaded in the back office, and take up again an import
    whose process died (its lease ran out)."""
    from avis.monitoring.uploads import import_uploads as run

    return run()


def index_search() -> dict[str, int]:
    """Bring the public search index in line with the catalogue (imports also do it at
    once; this catches any other change)."""
    from avis.public.search import rebuild_index

    return rebuild_index()


def export_open_data() -> dict[str, int]:
    """Write the open-data files (CSV, XLSX, Parquet and their dictionary) that
    ``/donnees`` offers, from the reviews published today."""
    from avis.opendata.export import export_open_data as export

    return export()


def apply_retention() -> dict[str, int]:
    """Erase, delete and disable what the retention periods of the settings say is due
    (``avis.privacy.retention``)."""
    from avis.privacy.retention import apply_retention as run

    return run()


def prune_job_runs() -> dict[str, int]:
    """Forget job runs older than ``JOB_RUN_RETENTION_DAYS`` (30): the dispatch alone
    records 1,440 a day."""
    import sqlalchemy as sa
    from flask import current_app

    from avis import clock
    from avis.db import db
    from avis.scheduler.models import JobRun

    removed = db.session.execute(
        sa.delete(JobRun).where(JobRun.started_dt < clock.now() - dt.timedelta(
            days=current_app.config["JOB_RUN_RETENTION_DAYS"]))
    ).rowcount
    db.session.commit()
    return {"removed": removed}


@dataclass(frozen=True)
class Job:
    #: stable id: the APScheduler job id and the ``job_runs.job`` value
    id: str
    #: module-level function doing the work; returns counts for the run's summary
    func: Callable[[], dict[str, int]]
    #: period; ticks are the multiples of it since the Unix epoch (UTC)
    every: dt.timedelta

    def tick(self, moment: dt.datetime) -> dt.datetime:
        """The tick ``moment`` belongs to: the start of its period."""
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return epoch + ((moment - epoch) // self.every) * self.every


#: Expiry first (no reminder for a dead link), then new invitations and reminders,
#: then the dispatch that sends what they queued.
JOBS: tuple[Job, ...] = (
    # Uploaded files first: their sessions that have ended get invitations this tick.
    Job("import_uploads", import_uploads, MINUTE),
    Job("expire_invitations", survey_jobs.expire_invitations, HOUR),
    Job("create_invitations", survey_jobs.create_end_of_training_invitations, HOUR),
    Job("create_follow_ups", survey_jobs.create_follow_up_invitations, HOUR),
    Job("queue_reminders", survey_jobs.queue_reminders, HOUR),
    Job("dispatch_outbox", dispatch_outbox, MINUTE),
    Job("dispatch_account_mail", account_jobs.dispatch_account_mail, MINUTE),
    Job("aggregate_scores", aggregate_scores, HOUR),
    Job("recompute_scores", recompute_scores, DAY),
    Job("monitoring_counts", refresh_monitoring_counts, HOUR),
    Job("monitoring_counts_rebuild", rebuild_monitoring_counts, DAY),
    Job("index_search", index_search, HOUR),
    Job("prune_job_runs", prune_job_runs, DAY),
    # Before the open-data files are written, after the day's scores.
    Job("apply_retention", apply_retention, DAY),
    Job("export_open_data", export_open_data, DAY),
    # After the scores and the day's moderation: bodies with a first published review.
    Job("invite_training_bodies", account_jobs.invite_training_bodies, DAY),
    Job("prune_account_sessions", account_jobs.prune_account_sessions, DAY),
    Job("screen_comments", moderation_jobs.screen_waiting, MINUTE),
    Job("retract_from_open_data", moderation_jobs.retract_from_open_data, MINUTE),
    Job("moderation_backlog", moderation_statistics.email_backlog, DAY),
    # After the night's score run: the priors of the day.
    Job("detect_alerts", alerts.detect, DAY),
    Job("alerts_digest", alerts.email_digest, DAY),
    Job("body_digest", body_notifications.email_digests, DAY),
)
BY_ID = {job.id: job for job in JOBS}
