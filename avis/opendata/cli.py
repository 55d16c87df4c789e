"""``avis export reviews``: the open-data files, on demand."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from avis.opendata.files import FORMATS


@click.group("export")
def export_group() -> None:
    """Export data."""


@export_group.command("reviews")
@click.option("--format", "format_name", type=click.Choice(FORMATS),
              help="File format (default: from the --out suffix, else csv).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="File to write (default: instance/opendata/avis-avis.<format>).")
@with_appcontext
def export_reviews_command(format_name: str | None, out: Path | None) -> None:
    """Open-data export of published reviews (no personal data), with its dictionary."""
    # Imported here: Arrow would otherwise weigh on every command and web worker.
    from avis.cli import progress_bar
    from avis.opendata.export import (
        ExportError,
        count_reviews,
        default_path,
        export_reviews,
    )

    if format_name is None:
        suffix = out.suffix.lower().lstrip(".") if out else ""
        format_name = suffix if suffix in FORMATS else "csv"
    if out is None:
        out = default_path(format_name)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            click.echo(f"Erreur : le dossier {out.parent} ne peut pas être créé "
                       f"({exc.strerror}).", err=True)
            sys.exit(2)
    # Counting costs a query: only when someone watches the bar.
    bar = progress_bar(count_reviews() if sys.stderr.isatty() else 0, "avis")
    try:
        summary = export_reviews({format_name: out}, progress=bar.update)
    except ExportError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(2)
    finally:
        bar.close()
    click.echo(summary.line())
