"""``avis mail``: send the outbox now, and see what could not be sent."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from avis.db import db


@click.group("mail")
def mail_group() -> None:
    """The outbox: send now, inspect."""


@mail_group.command("send")
@click.option("--batches", type=click.IntRange(min=1), default=None,
              help="Stop after this many batches (default: until nothing is due).")
@with_appcontext
def send_command(batches: int | None) -> None:
    """Send due emails now. Several may run at once on PostgreSQL."""
    from avis.mail.dispatch import dispatch

    counts = dispatch(max_batches=batches)
    click.echo(_describe(counts))


@mail_group.command("status")
@with_appcontext
def status_command() -> None:
    """Messages by status, and the latest failures."""
    from avis.mail.models import MessageStatus, OutboxMessage

    counts = dict(db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all())
    click.echo(", ".join(f"{status} {counts.get(status, 0)}" for status in MessageStatus))
    failed = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.invitation_id, OutboxMessage.template,
                  OutboxMessage.attempts, OutboxMessage.last_error)
        .where(OutboxMessage.status == MessageStatus.failed)
        .order_by(OutboxMessage.id.desc()).limit(20)).all()
    for row in failed:
        click.echo(f"échec message {row.id} (invitation {row.invitation_id}, {row.template}, "
                   f"{row.attempts} tentatives) : {row.last_error}")


def _describe(counts: dict[str, int]) -> str:
    if not counts:
        return "aucun message à envoyer"
    labels = {"sent": "envoyés", "retry": "à réessayer", "unknown": "issue inconnue",
              "failed": "en échec", "cancelled": "annulés"}
    return ", ".join(f"{labels.get(k, k)} {v}" for k, v in counts.items())
