"""``avis gdpr erase|export|readmit --email E``: erasure and access requests from the
command line. The address is never printed back to a log: only to the terminal that
typed it, in an export."""

from __future__ import annotations

import json
import re

import click
from flask.cli import with_appcontext

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


def _address(ctx: click.Context, param: click.Parameter, value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        raise click.BadParameter("adresse e-mail invalide")
    return value


email_option = click.option("--email", required=True, callback=_address,
                            help="the person's email address")


@click.group("gdpr")
def gdpr_group() -> None:
    """Erasure and access requests (GDPR)."""


@gdpr_group.command("erase")
@email_option
@with_appcontext
def erase_command(email: str) -> None:
    """Erase the person's identity; a later import of the address is refused."""
    from avis.db import db
    from avis.privacy.erasure import erase_email, is_refused

    already = is_refused(email)
    erased = erase_email(email, reason="request")
    db.session.commit()
    if erased:
        click.echo("Données personnelles effacées (nom, prénom, adresse, téléphones, liens, "
                   "e-mails en attente) ; les réponses anonymes restent. Un import ne "
                   "reprendra pas cette adresse.")
    elif already:
        click.echo("Cette adresse était déjà effacée : rien n’a changé.")
    else:
        click.echo("Aucun stagiaire n’a cette adresse ; elle est enregistrée comme effacée : "
                   "un import ne la reprendra pas.")


@gdpr_group.command("export")
@email_option
@click.option("--text", "as_text", is_flag=True,
              help="a readable text (in French) instead of JSON")
@with_appcontext
def export_command(email: str, as_text: bool) -> None:
    """Everything held about the person, as JSON (or a readable text)."""
    from avis.db import db
    from avis.privacy.export import export_email, export_text

    data = export_email(email)
    db.session.commit()  # the audit event
    if as_text:
        click.echo(export_text(data), nl=False)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    if not data["found"]:
        click.echo("Aucun stagiaire n’a cette adresse.", err=True)


@gdpr_group.command("readmit")
@email_option
@with_appcontext
def readmit_command(email: str) -> None:
    """Let an erased address be imported and emailed again."""
    from avis.db import db
    from avis.privacy.erasure import readmit

    if not readmit(email):
        raise click.ClickException("cette adresse n’est pas effacée : rien à réadmettre")
    db.session.commit()
    click.echo("Adresse réadmise : un prochain import pourra la reprendre.")
