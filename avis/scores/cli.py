"""``avis scores recompute``: rebuild every score now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("scores")
def scores_group() -> None:
    """Aggregated scores."""


@scores_group.command("recompute")
@with_appcontext
def recompute_command() -> None:
    """Rebuild every score from the answers (after an erasure or a catalogue change)."""
    from avis.scores.aggregate import recompute_all

    counts = recompute_all()
    click.echo("Scores recalculés : " + ", ".join(f"{scope} {n}" for scope, n in counts.items()))
