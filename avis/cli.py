"""The ``avis`` command line.

Commands are registered on the app, so ``flask --app avis`` works too.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

if TYPE_CHECKING:
    from tqdm import tqdm


def main() -> None:
    from avis import create_app

    cli = FlaskGroup(
        name="avis",
        create_app=lambda: create_app(),
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        help="avis: training evaluation and public reviews.",
    )
    # `avis` always runs this application: Flask's --app and --env-file are noise here.
    cli.params = [p for p in cli.params if p.name not in {"app", "env_file"}]
    cli.main(prog_name="avis")


def register_commands(app: Flask) -> None:
    from avis.accounts.cli import users_group
    from avis.catalog.cli import demo_command, import_group
    from avis.mail.cli import mail_group
    from avis.migrations import db_group
    from avis.opendata.cli import export_group
    from avis.privacy.cli import gdpr_group
    from avis.scheduler.cli import jobs_group, scheduler_command
    from avis.scores.cli import scores_group

    app.cli.add_command(db_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(mail_group)
    app.cli.add_command(scores_group)
    app.cli.add_command(import_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(export_group)
    app.cli.add_command(users_group)
    app.cli.add_command(gdpr_group)
    app.cli.add_command(serve_command)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-scheduler", is_flag=True,
              help="Also run the scheduler in this process (single machine).")
@with_appcontext
def serve_command(host: str, port: int, with_scheduler: bool) -> None:
    """Development server (use gunicorn avis.wsgi:app in production)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = None
    if with_scheduler:
        import logging

        from avis.scheduler.process import build_scheduler

        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        # Started here, by the command, never by the WSGI app: web workers must not
        # each run the jobs. The reloader stays off so there is one process.
        scheduler = build_scheduler(app, blocking=False)
        scheduler.start()
        click.echo("planificateur démarré dans ce processus")
    click.echo(f"avis sur http://{host}:{port}/ (Ctrl+C pour arrêter)")
    try:
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def progress_bar(total: int, unit: str) -> tqdm:
    """A progress bar on a terminal (stderr), silent otherwise; close it when done."""
    from tqdm import tqdm

    return tqdm(total=total or None, unit=unit, unit_scale=True, disable=None, file=sys.stderr,
                leave=False, dynamic_ncols=True)


__all__ = ["main", "progress_bar", "register_commands"]
