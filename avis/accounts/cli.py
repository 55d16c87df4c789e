"""``avis users``: create, list and disable accounts from the command line."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from avis import clock
from avis.config import ROLES
from avis.db import db


@click.group("users")
def users_group() -> None:
    """Staff and training-body accounts."""


#: What ``users list`` prints for each status (roles stay as ``--role`` spells them).
STATUS_IN_FRENCH = {"invited": "invité", "active": "actif", "disabled": "désactivé"}


def _fail(message: str) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(2)


@users_group.command("create")
@click.option("--email", required=True, help="The person's address: their sign-in name.")
@click.option("--role", required=True, metavar="ROLE",
              help="admin, moderator, region or organisation.")
@click.option("--siret", help="organisation: a SIRET (one establishment) or a SIREN (all).")
@click.option("--region", help="region (required) or moderator (optional): INSEE code, e.g. 52.")
@click.option("--funder", "funders", multiple=True, type=int,
              help="region: limit to this funder code (repeatable).")
@click.option("--name", help="The person's name, for the journal and lists.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of emailing an "
                   "activation link.")
@with_appcontext
def create_command(email: str, role: str, siret: str | None, region: str | None,
                   funders: tuple[int, ...], name: str | None, password_stdin: bool) -> None:
    """Create an account. Without --password-stdin, the person gets an email with a link
    to choose their password (valid 7 days)."""
    from avis.accounts import operations
    from avis.accounts.forms import ERRORS
    from avis.accounts.models import AccountStatus

    if role not in ROLES:
        _fail(f"rôle inconnu « {role} » : choisissez admin, moderator, region ou "
              "organisation.")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("aucun mot de passe lu sur l’entrée standard")
    try:
        scope = operations.AccountScope.build(role, establishment=siret, region=region,
                                              funders=funders)
        account = operations.create(email, scope, name=name, password=password,
                                    actor_role="cli")
    except operations.AccountError as exc:
        db.session.rollback()
        _fail(_in_french(ERRORS[exc.code], exc.details))
        return
    db.session.commit()
    if account.status == AccountStatus.invited:
        from avis.accounts.mail import dispatch

        counts = dispatch()
        sent = "envoyé" if counts.get("sent") else "en file d’attente (nouvel essai bientôt)"
        click.echo(f"Compte créé : {account.email} ({account.role}, {account.scope_label}) ; "
                   f"courriel d’activation {sent}.")
    else:
        click.echo(f"Compte créé et actif : {account.email} ({account.role}, "
                   f"{account.scope_label}).")


def _in_french(message: object, details: dict[str, object]) -> str:
    from flask_babel import force_locale

    with force_locale("fr"):
        return str(message) % details


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every account: address, role, scope, status, second factor, last sign-in."""
    from avis.accounts.models import Account

    accounts = db.session.scalars(sa.select(Account).order_by(Account.role, Account.email)).all()
    if not accounts:
        click.echo("Aucun compte.")
        return
    rows = [("adresse", "rôle", "périmètre", "état", "2FA", "dernière connexion")]
    for account in accounts:
        last = account.last_login_dt.astimezone(clock.PARIS).strftime("%Y-%m-%d %H:%M") \
            if account.last_login_dt else "jamais"
        rows.append((account.email, str(account.role), account.scope_label,
                     STATUS_IN_FRENCH[account.status],
                     "oui" if account.has_totp else "non", last))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                   .rstrip())


@users_group.command("disable")
@click.option("--email", required=True)
@with_appcontext
def disable_command(email: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions end at once."""
    from avis.accounts import operations

    account = operations.find(email)
    if account is None:
        _fail(f"aucun compte pour {email.strip().lower()}")
        return
    changed = operations.disable(account, by=None, actor_role="cli")
    db.session.commit()
    click.echo(f"Compte désactivé : {account.email}." if changed
               else f"Le compte {account.email} était déjà désactivé.")
