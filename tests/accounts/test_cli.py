"""``avis users``: accounts created, listed and disabled from the command line. Every
refusal exits 2 with a French message on stderr and writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from avis import clock
from avis.accounts.models import (
    Account,
    AccountMessage,
    AccountSession,
    AccountStatus,
    AccountToken,
    Role,
)
from avis.audit.models import AuditEvent
from avis.db import db
from avis.models import Base
from tests.accounts.fixtures import PASSWORD, Browser
from tests.accounts.test_mail import (
    ACTIVATION_SUBJECT,
    NEW_PASSWORD,
    choose_password,
    mailbox,
    token_in,
)
from tests.catalog.fixtures import make_siret

SIRET = make_siret(12345678)
SIREN = SIRET[:9]


def create(runner: FlaskCliRunner, *options: str, password: str | None = None):
    """``avis users create`` with ``options``; ``password`` is typed on stdin."""
    args = ["users", "create", *options]
    if password is not None:
        args.append("--password-stdin")
    return runner.invoke(args=args, input=password)


def stored(app: Flask, email: str) -> Account:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == email))
        assert account is not None
        return account


def counts(app: Flask) -> dict[str, int]:
    """Rows of the tables a creation writes to."""
    with app.app_context():
        return {model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model))
                for model in (Account, AuditEvent, AccountMessage, AccountToken)}


def database_text(app: Flask) -> str:
    """Every value of every row of every table, as text."""
    with app.app_context():
        return "\n".join(repr(row) for table in Base.metadata.sorted_tables
                         for row in db.session.execute(sa.select(table)))


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- create ---------------------------------------------------------------------------

def test_a_password_on_stdin_makes_an_active_account_that_signs_in(
        app: Flask, runner: FlaskCliRunner, browser: Callable[[], Browser],
        instance_path: Path) -> None:
    result = create(runner, "--email", " Marie.Curie@Example.org ", "--role", "moderator",
                    "--region", "52", "--name", "Marie Curie", password=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Compte créé et actif : marie.curie@example.org (moderator, 52).\n"
    assert result.stderr == ""
    account = stored(app, "marie.curie@example.org")
    assert (account.role, account.status, account.region_code, account.name,
            account.created_by_id) == (Role.moderator, AccountStatus.active, "52",
                                       "Marie Curie", None)
    assert counts(app)["account_messages"] == 0
    assert mailbox(instance_path) == []
    signed = browser().sign_in("marie.curie@example.org")
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/admin/"


def test_without_a_password_the_account_is_invited_and_its_emailed_link_activates_it(
        app: Flask, runner: FlaskCliRunner, browser: Callable[[], Browser],
        instance_path: Path) -> None:
    result = create(runner, "--email", "contact@organisme.example.org", "--role",
                    "organisation", "--siret", SIRET)

    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Compte créé : contact@organisme.example.org (organisation, "
                             f"SIRET {SIRET}) ; courriel d’activation envoyé.\n")
    account = stored(app, "contact@organisme.example.org")
    assert (account.status, account.password_hash, account.siret, account.siren) == (
        AccountStatus.invited, None, SIRET, None)
    [message] = mailbox(instance_path)
    assert message["To"] == "contact@organisme.example.org"
    assert message["Subject"] == ACTIVATION_SUBJECT
    token = token_in(message)
    # Only the token's SHA-256 is kept: the token itself is in no row of any table.
    with app.app_context():
        assert db.session.scalars(sa.select(AccountToken.digest)).all() == [
            hashlib.sha256(token.encode()).digest()]
    assert token not in database_text(app)
    # Before activation, no password opens it.
    assert browser().sign_in("contact@organisme.example.org", PASSWORD).status_code == 422

    client = browser()
    opened = client.get(f"/login/lien/{token}")
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/login/mot-de-passe"
    saved = client.submit("/login/mot-de-passe",
                          {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 200
    assert "Votre mot de passe est enregistré" in saved.get_data(as_text=True)

    assert stored(app, "contact@organisme.example.org").status == AccountStatus.active
    signed = browser().sign_in("contact@organisme.example.org", NEW_PASSWORD)
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/admin/"


def test_a_siren_of_nine_digits_makes_an_account_for_every_establishment(
        app: Flask, runner: FlaskCliRunner) -> None:
    spaced = f"{SIREN[:3]} {SIREN[3:6]} {SIREN[6:]}"
    result = create(runner, "--email", "reseau@example.org", "--role", "organisation",
                    "--siret", spaced, password=PASSWORD)

    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Compte créé et actif : reseau@example.org (organisation, "
                             f"SIREN {SIREN}).\n")
    account = stored(app, "reseau@example.org")
    assert (account.siren, account.siret) == (SIREN, None)


def test_a_region_account_limited_to_funders(app: Flask, runner: FlaskCliRunner) -> None:
    result = create(runner, "--email", "region@example.org", "--role", "region", "--region",
                    "52", "--funder", "4", "--funder", "2", password=PASSWORD)

    assert result.exit_code == 0, result.output
    assert result.stdout == "Compte créé et actif : region@example.org (region, 52 · 2, 4).\n"
    assert stored(app, "region@example.org").funder_codes == [2, 4]


def _bad_siret() -> str:
    wrong = str((int(SIRET[-1]) + 1) % 10)
    return SIRET[:-1] + wrong


@pytest.mark.parametrize(("options", "password", "message"), [
    pytest.param(["--email", "x@example.org", "--role", "boss"], None,
                 "rôle inconnu « boss » : choisissez admin, moderator, region ou "
                 "organisation.", id="unknown role"),
    pytest.param(["--email", "x@example.org", "--role", "region"], None,
                 "Un compte Région a besoin de sa région.", id="region without --region"),
    pytest.param(["--email", "x@example.org", "--role", "region", "--region", "99"], None,
                 "Choisissez une région dans la liste.", id="unknown region"),
    pytest.param(["--email", "x@example.org", "--role", "region", "--region", "52",
                  "--funder", "1"], None,
                 "Choisissez les financeurs dans la liste.", id="unknown funder"),
    pytest.param(["--email", "x@example.org", "--role", "organisation"], None,
                 "Un compte d’organisme de formation a besoin de son SIRET (un établissement) "
                 "ou de son SIREN (tous ses établissements).", id="organisation without siret"),
    pytest.param(["--email", "x@example.org", "--role", "organisation", "--siret",
                  _bad_siret()], None,
                 "Saisissez un SIRET de 14 chiffres ou un SIREN de 9 chiffres dont la clé de "
                 "contrôle est juste.", id="bad siret check digit"),
    pytest.param(["--email", "x@example.org", "--role", "organisation", "--siret",
                  SIRET[:13]], None,
                 "Saisissez un SIRET de 14 chiffres ou un SIREN de 9 chiffres dont la clé de "
                 "contrôle est juste.", id="13 digits"),
    pytest.param(["--email", "x@example.org", "--role", "organisation", "--siret",
                  SIREN[:-1] + str((int(SIREN[-1]) + 1) % 10)], None,
                 "Saisissez un SIRET de 14 chiffres ou un SIREN de 9 chiffres dont la clé de "
                 "contrôle est juste.", id="bad siren check digit"),
    pytest.param(["--email", "x@example.org", "--role", "admin", "--siret", SIRET], None,
                 "Ce rôle ne prend pas ce périmètre : laissez ce champ vide.",
                 id="siret on an admin"),
    pytest.param(["--email", "x@example.org", "--role", "admin", "--region", "52"], None,
                 "Ce rôle ne prend pas ce périmètre : laissez ce champ vide.",
                 id="region on an admin"),
    pytest.param(["--email", " TAKEN@Example.ORG", "--role", "admin"], PASSWORD,
                 "Un compte utilise déjà cette adresse électronique.", id="duplicate email"),
    pytest.param(["--email", "pas-une-adresse", "--role", "admin"], None,
                 "Saisissez une adresse électronique, comme nom@exemple.fr.",
                 id="invalid email"),
    pytest.param(["--email", "x@example.org", "--role", "admin"], "Court-1\n",
                 "Choisissez un mot de passe d’au moins 12 caractères.", id="too short"),
    pytest.param(["--email", "x@example.org", "--role", "admin"], "password1234\n",
                 "Ce mot de passe est trop courant ou trop facile à deviner : ajoutez des mots "
                 "à vous, sans rapport avec votre nom, votre adresse ou avis.", id="common"),
    pytest.param(["--email", "marie.curie@example.org", "--role", "admin"],
                 "marie.curie2026\n",
                 "Ce mot de passe est trop courant ou trop facile à deviner : ajoutez des mots "
                 "à vous, sans rapport avec votre nom, votre adresse ou avis.",
                 id="made of the address"),
    pytest.param(["--email", "x@example.org", "--role", "admin"], "",
                 "aucun mot de passe lu sur l’entrée standard", id="empty stdin"),
    pytest.param(["--email", "x@example.org", "--role", "admin"], "\n",
                 "aucun mot de passe lu sur l’entrée standard", id="empty line"),
])
def test_bad_input_exits_2_with_a_french_message_and_writes_nothing(
        app: Flask, runner: FlaskCliRunner, make_account: Callable[..., Account],
        instance_path: Path, options: list[str], password: str | None, message: str) -> None:
    make_account(Role.moderator, "taken@example.org")
    before = counts(app)

    result = create(runner, *options, password=password)

    assert result.exit_code == 2
    assert result.stderr == f"Erreur : {message}\n"
    assert result.stdout == ""
    assert counts(app) == before
    assert mailbox(instance_path) == []


# --- list -----------------------------------------------------------------------------

def test_list_shows_every_account_with_role_scope_status_second_factor(
        app: Flask, runner: FlaskCliRunner, make_account: Callable[..., Account]) -> None:
    assert runner.invoke(args=["users", "list"]).stdout == "Aucun compte.\n"
    make_account(Role.admin, "admin@example.org", totp_secret=pyotp.random_base32())
    make_account(Role.region, "region@example.org", region="52", funders=(2, 4))
    make_account(Role.organisation, "reseau@example.org", siret=SIREN, password=None)
    make_account(Role.organisation, "site@example.org", siret=SIRET)
    runner.invoke(args=["users", "disable", "--email", "site@example.org"])
    make_account(Role.moderator, "moderation@example.org")

    result = runner.invoke(args=["users", "list"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "adresse                 rôle          périmètre             état       2FA  "
        "dernière connexion",
        "admin@example.org       admin         —                     actif      oui  jamais",
        "moderation@example.org  moderator     —                     actif      non  jamais",
        f"reseau@example.org      organisation  SIREN {SIREN}       invité     non  jamais",
        f"site@example.org        organisation  SIRET {SIRET}  désactivé  non  jamais",
        "region@example.org      region        52 · 2, 4             actif      non  jamais",
    ]


def test_list_shows_the_last_sign_in_in_french_time(
        app: Flask, runner: FlaskCliRunner, make_account: Callable[..., Account],
        browser: Callable[[], Browser]) -> None:
    make_account(Role.region, "region@example.org", region="52")
    with clock.frozen_at(dt.datetime(2026, 7, 14, 7, 5, tzinfo=dt.UTC)):
        assert browser().sign_in("region@example.org").status_code == 303

    result = runner.invoke(args=["users", "list"])

    assert result.stdout.splitlines()[1] == (
        "region@example.org  region  52         actif  non  2026-07-14 09:05")


# --- disable --------------------------------------------------------------------------

def test_disable_ends_the_sessions_and_is_journaled(
        app: Flask, runner: FlaskCliRunner, make_account: Callable[..., Account],
        browser: Callable[[], Browser]) -> None:
    account = make_account(Role.region, "region@example.org", region="52")
    client = browser()
    client.sign_in(account.email)
    assert client.get("/admin/").status_code == 200

    result = runner.invoke(args=["users", "disable", "--email", " Region@Example.org"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "Compte désactivé : region@example.org.\n"
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountSession)) == 0
    disabled = stored(app, "region@example.org")
    assert disabled.status == AccountStatus.disabled
    assert disabled.disabled_dt is not None
    [event] = events(app, "account.disabled")
    assert (event.actor_id, event.actor_role, event.object_type, event.object_id,
            event.changes, event.address) == (
        None, "cli", "account", str(account.id),
        {"status": ["active", "disabled"], "sessions_ended": 1}, None)
    assert browser().sign_in(account.email).status_code == 422

    again = runner.invoke(args=["users", "disable", "--email", "region@example.org"])

    assert again.exit_code == 0, again.output
    assert again.stdout == "Le compte region@example.org était déjà désactivé.\n"
    assert len(events(app, "account.disabled")) == 1


def test_disable_of_an_unknown_address(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "disable", "--email", "Nobody@Example.org"])

    assert result.exit_code == 2
    assert result.stderr == "Erreur : aucun compte pour nobody@example.org\n"
    assert events(app, "account.disabled") == []


# --- the journal ----------------------------------------------------------------------

def test_each_creation_is_journaled_without_the_address(app: Flask,
                                                        runner: FlaskCliRunner) -> None:
    created = [
        create(runner, "--email", "admin@example.org", "--role", "admin", password=PASSWORD),
        create(runner, "--email", "moderation@example.org", "--role", "moderator"),
        create(runner, "--email", "region@example.org", "--role", "region", "--region", "52",
               "--funder", "2"),
        create(runner, "--email", "site@example.org", "--role", "organisation", "--siret",
               SIRET, "--name", "Marie Curie"),
    ]
    assert [result.exit_code for result in created] == [0, 0, 0, 0]
    ids = {email: stored(app, email).id for email in (
        "admin@example.org", "moderation@example.org", "region@example.org",
        "site@example.org")}

    journal = [(e.actor_id, e.actor_role, e.object_type, e.object_id, e.changes, e.address)
               for e in events(app, "account.created")]

    assert journal == [
        (None, "cli", "account", str(ids["admin@example.org"]),
         {"role": "admin", "scope": "—", "status": "active"}, None),
        (None, "cli", "account", str(ids["moderation@example.org"]),
         {"role": "moderator", "scope": "—", "status": "invited"}, None),
        (None, "cli", "account", str(ids["region@example.org"]),
         {"role": "region", "scope": "52 · 2", "status": "invited"}, None),
        (None, "cli", "account", str(ids["site@example.org"]),
         {"role": "organisation", "scope": f"SIRET {SIRET}", "status": "invited"}, None),
    ]
    with app.app_context():
        journal_text = repr(db.session.execute(sa.select(AuditEvent.__table__)).all())
    assert "@" not in journal_text
    assert "Marie Curie" not in journal_text


def test_the_activation_of_a_cli_account_is_journaled_as_its_owner(
        app: Flask, runner: FlaskCliRunner, browser: Callable[[], Browser],
        instance_path: Path) -> None:
    create(runner, "--email", "region@example.org", "--role", "region", "--region", "52")
    [message] = mailbox(instance_path)

    assert choose_password(browser(), token_in(message)) == (303, 200)

    account = stored(app, "region@example.org")
    [event] = events(app, "account.activated")
    assert (event.actor_id, event.actor_role, event.object_id, event.changes) == (
        account.id, "region", str(account.id),
        {"sessions_ended": 0, "status": ["invited", "active"]})
