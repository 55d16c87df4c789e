"""Demo accounts, one per role, with passwords printed by ``avis demo`` (and ``make run``).

Only for the demo data set: the passwords are in this file. The admin role requires a
second factor by default (``AVIS_REQUIRE_TOTP_ROLES``): the demo admin sets it up at
the first sign-in, with any authenticator app.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from avis.accounts import operations, passwords
from avis.accounts.models import Account, Role
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys.models.answers import Answer

DOMAIN = "demo.avis.example"
REGION = "52"


@dataclass(frozen=True)
class DemoLogin:
    label: str
    email: str
    password: str


LOGINS = (
    DemoLogin("administration", f"admin@{DOMAIN}", "Ardoise-Lanterne-Quatre"),
    DemoLogin("modération (Pays de la Loire)", f"moderation@{DOMAIN}", "Pivoine-Boussole-Dix"),
    DemoLogin("Région Pays de la Loire", f"region@{DOMAIN}", "Estuaire-Tramway-Sept"),
    DemoLogin("organisme de formation (tous ses établissements)", f"reseau@{DOMAIN}",
              "Atelier-Cerisier-Vingt"),
    DemoLogin("organisme de formation (un établissement)", f"organisme@{DOMAIN}",
              "Marelle-Horizon-Trente"),
)


def create_demo_accounts() -> list[DemoLogin]:
    """The five demo accounts (skipping any that exists), and contact addresses for the
    demo's training bodies. The caller commits."""
    network_siren = db.session.scalar(
        sa.select(TrainingBody.siren).group_by(TrainingBody.siren)
        .having(sa.func.count() > 1).order_by(sa.func.count().desc(), TrainingBody.siren)
        .limit(1))
    single = db.session.scalar(
        sa.select(TrainingBody.siret).join(Answer, Answer.training_body_id == TrainingBody.id)
        .where(TrainingBody.siren != (network_siren or ""))
        .group_by(TrainingBody.siret).order_by(sa.func.count().desc(), TrainingBody.siret)
        .limit(1))
    scopes = [
        operations.AccountScope(Role.admin),
        operations.AccountScope(Role.moderator, region_code=REGION),
        operations.AccountScope(Role.region, region_code=REGION),
        operations.AccountScope(Role.organisation, siren=network_siren),
        operations.AccountScope(Role.organisation, siret=single),
    ]
    created = []
    for login, scope in zip(LOGINS, scopes, strict=True):
        if scope.role == Role.organisation and not (scope.siren or scope.siret):
            continue  # a catalogue too small for this kind of body
        if operations.find(login.email) is None:
            operations.create(login.email, scope, password=login.password, actor_role="cli",
                              name=f"Démo {login.label}", reason="demo")
            created.append(login)
    for body in db.session.scalars(sa.select(TrainingBody).where(
            TrainingBody.contact_email.is_(None))):
        body.contact_email = f"contact.{body.siret}@{DOMAIN}"
    return created


def demo_logins() -> list[tuple[DemoLogin, str]]:
    """The demo accounts present, each with its state: "ok", or why its printed password
    no longer opens it."""
    found = {account.email: account for account in db.session.scalars(
        sa.select(Account).where(Account.email.in_([login.email for login in LOGINS])))}
    result = []
    for login in LOGINS:
        account = found.get(login.email)
        if account is None:
            continue
        if account.status != "active":
            state = "désactivé"
        elif not passwords.verify(account.password_hash, login.password):
            state = "mot de passe changé depuis"
        else:
            state = "ok"
        result.append((login, state))
    return result


def login_lines(base_url: str, totp_roles: tuple[str, ...]) -> list[str]:
    """What ``avis demo`` prints: each demo login, and how to sign in."""
    logins = demo_logins()
    if not logins:
        return []
    lines = [f"Comptes de démonstration, à utiliser sur {base_url}/login :"]
    for login, state in logins:
        note = "" if state == "ok" else f"  [{state}]"
        lines.append(f"  {login.label:<50} {login.email:<30} {login.password}{note}")
    if "admin" in totp_roles:
        lines.append("  L’administration demande une double authentification : elle se "
                     "configure à la première connexion, avec une application TOTP.")
    return lines
