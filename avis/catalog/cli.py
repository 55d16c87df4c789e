"""``avis import trainees`` and ``avis demo``."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from avis import clock
from avis.catalog.imports.formats import FORMATS
from avis.db import db

if TYPE_CHECKING:
    from avis.catalog.imports.operations import ImportSummary
    from avis.catalog.imports.reader import TraineeFile


@click.group("import")
def import_group() -> None:
    """Import files."""


@import_group.command("trainees")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)),
              help="File format (guessed from the file when omitted).")
@click.option("--campaign", help="Campaign name given to new enrolments (default: file name).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@with_appcontext
def import_trainees_command(path: Path, format_name: str | None, campaign: str | None,
                            dry_run: bool) -> None:
    """Import trainees to survey from PATH (France Travail `pe` export, CSV or XLSX)."""
    # Imported here: pandas and Arrow would otherwise weigh on every web worker.
    from avis.catalog.imports.operations import ImportFileError, import_trainees
    from avis.cli import progress_bar

    bars = []
    started = clock.now()

    def progress(trainee_file: TraineeFile) -> Callable[[int], None]:
        in_rows = trainee_file.format.name == "xlsx"
        bar = progress_bar(0 if in_rows else trainee_file.size, "lignes" if in_rows else "o")
        bars.append(bar)
        return bar.update

    try:
        summary = import_trainees(
            db.session,
            path,
            format_name=format_name,
            campaign=campaign,
            dry_run=dry_run,
            chunk_size=current_app.config["IMPORT_CHUNK_SIZE"],
            progress=progress,
        )
    except ImportFileError as exc:
        click.echo(f"Erreur : {path.name} ne peut pas être importé : {exc}", err=True)
        sys.exit(2)
    finally:
        for bar in bars:
            bar.close()
    _echo(summary)
    if not dry_run:
        _index_search(started)


def _index_search(since: dt.datetime) -> None:
    """New bodies, courses and places are searchable at once, not at the next hour."""
    from avis.public.search import index_changes_since

    index_changes_since(since)


def _echo(summary: ImportSummary) -> None:
    click.echo(summary.line())


@click.command("demo")
@click.option("--trainees", default=3000, show_default=True, help="Number of trainees.")
@click.option("--seed", default=0, show_default=True, help="Random seed: same seed, same data.")
@click.option("--if-empty", is_flag=True,
              help="Do nothing when the database already holds training bodies.")
@with_appcontext
def demo_command(trainees: int, seed: int, if_empty: bool) -> None:
    """Load a realistic demo data set (Pays de la Loire) through the normal import."""
    from avis.catalog.demo_data import demo_rows
    from avis.catalog.imports.operations import import_trainees
    from avis.models import TrainingBody

    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(TrainingBody)):
        click.echo("Données déjà présentes : démo non chargée.")
        _echo_demo_logins()
        return
    frame = demo_rows(trainees=trainees, seed=seed, today=clock.today())
    with tempfile.TemporaryDirectory(prefix="avis-demo-") as folder:
        path = Path(folder) / f"demo-{seed}.csv"
        frame.to_csv(path, sep=";", index=False, encoding="utf-8")
        summary = import_trainees(db.session, path, format_name="csv", campaign="démo",
                                  chunk_size=current_app.config["IMPORT_CHUNK_SIZE"])
    _echo(summary)
    if summary.rejected:
        raise click.ClickException("the demo data set has rejected rows: it is out of date")
    from avis.public.search import rebuild_index

    rebuild_index()
    # The jobs, run now: sessions that ended lately get their invitations, and with the
    # file backend the emails are in /dev/mailbox at once, their links working.
    from avis.scheduler.runner import run_due

    results = {r.job: r.summary for r in run_due()}
    follow_ups = results["create_follow_ups"].get("invitations", 0)
    created = results["create_invitations"].get("invitations", 0) + follow_ups
    sent = results["dispatch_outbox"].get("sent", 0)
    click.echo(f"Invitations : {created} créées (dont {follow_ups} de suivi à 6 mois), "
               f"{sent} courriels envoyés"
               + (" (voir /dev/mailbox)" if current_app.config["MAIL_BACKEND"] == "file" else ""))
    from avis.surveys.demo import add_demo_answers

    answers = add_demo_answers(seed)
    # Two campaigns, the older with many bounces: the dashboard's figures.
    from avis.monitoring.demo import add_demo_campaigns

    add_demo_campaigns(clock.today(), seed)
    # A body whose marks fall over the last 90 days: the alerts have a score drop.
    from avis.monitoring.demo import add_demo_score_drop

    add_demo_score_drop(clock.today())
    db.session.commit()
    click.echo(f"Réponses : {answers['answers']} avis, "
               f"{answers['follow_up_answers']} questionnaires à 6 mois")
    # The answers were written after the jobs ran: score them now, not at the next hour.
    from avis.scores.aggregate import recompute_all

    recompute_all()
    # Likewise the open-data files, which the daily job would write only tomorrow.
    from avis.opendata.export import export_open_data

    export_open_data()
    # One account per role, and contact addresses for the bodies (the daily job then
    # invites those with published reviews to their space).
    from avis.accounts.demo import create_demo_accounts

    create_demo_accounts()
    # A moderation queue with something of everything: flagged comments, replies and
    # reports from the training bodies' demo accounts.
    from avis.accounts.demo import REGION
    from avis.moderation.demo import add_demo_moderation
    from avis.moderation.jobs import screen_waiting

    queue = add_demo_moderation(REGION)
    db.session.commit()
    screen_waiting()
    click.echo(f"Modération : {queue['replies']} réponses d’organismes et "
               f"{queue['reports']} signalements en attente")
    from avis.accounts.jobs import invite_training_bodies

    invited = invite_training_bodies()["invited"]
    click.echo(f"Espaces des organismes : {invited} organismes invités par courriel "
               "(envoyés par le planificateur)")
    # The dashboard's counts, which the hourly job would fill only at the next hour.
    from avis.monitoring.funnel import rebuild

    rebuild()
    # And the night's alerts: the score drop, the bouncing campaign, the serious alerts.
    from avis.monitoring.alerts import detect

    found = detect()
    click.echo(f"Alertes : {found['opened']} ouvertes pour les équipes des régions")
    _echo_demo_logins()


def _echo_demo_logins() -> None:
    from avis.accounts.demo import login_lines

    config = current_app.config
    for line in login_lines(config["BASE_URL"], config["REQUIRE_TOTP_ROLES"]):
        click.echo(line)
