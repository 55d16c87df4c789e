"""Several people per training body: colleagues invite each other to the same scope.

A SIREN account sees every account of its SIREN (its establishments' included) and may
invite for the whole SIREN or for one of its establishments; a SIRET account sees and
invites for its SIRET only. An invitation is an account created ``invited`` with its
activation email, as an administrator's (``accounts.operations.create``): the journal
says who invited whom.

A colleague who leaves can be disabled by the others of the same scope (and enabled
again): a body must not have to wait for the service's administrators to close the
access of someone who no longer works there. One cannot disable oneself (the last
person of a body would lock it out), and a SIRET account cannot reach a SIREN account.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from avis.accounts import operations
from avis.accounts.models import Account, Role
from avis.accounts.operations import AccountError, AccountScope
from avis.accounts.scope import Scope
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db

#: The ``reason`` of the journal's ``account.created`` event: a body invited this one.
REASON = "invited_by_colleague"


@dataclass(frozen=True)
class Establishment:
    siret: str
    name: str


def colleagues(me: Account) -> list[Account]:
    """The accounts of my scope, myself included, by email."""
    return list(db.session.scalars(
        sa.select(Account).where(Scope.of(me).where(Account), Account.role == Role.organisation)
        .order_by(Account.email)))


def establishments(me: Account) -> list[Establishment]:
    """The establishments a SIREN account may invite for (none for a SIRET account)."""
    if not me.siren:
        return []
    rows = db.session.execute(
        sa.select(TrainingBody.siret, TrainingBody.name)
        .where(Scope.of(me).where(TrainingBody)).order_by(TrainingBody.siret))
    return [Establishment(siret, name) for siret, name in rows]


def invite(me: Account, email: str, *, name: str | None = None,
           establishment: str | None = None) -> Account:
    """A colleague's account, invited (activation email queued) for my own scope, or —
    a SIREN account only — for one of my establishments. The caller commits."""
    if me.role != Role.organisation:
        raise AccountError("not_a_body")
    establishment = (establishment or "").replace(" ", "") or None
    own = me.siren or me.siret
    if establishment is None or establishment == own:
        scope = AccountScope.build(Role.organisation, establishment=own)
    elif me.siren and establishment in {e.siret for e in establishments(me)}:
        scope = AccountScope.build(Role.organisation, establishment=establishment)
    else:
        raise AccountError("establishment_not_yours")
    return operations.create(email, scope, name=name, created_by=me, reason=REASON)


def colleague(me: Account, account_id: int) -> Account | None:
    """One account of my scope (None for anyone else's: the caller answers 404)."""
    return db.session.scalar(sa.select(Account).where(
        Account.id == account_id, Account.role == Role.organisation,
        Scope.of(me).where(Account)))


def disable(me: Account, other: Account) -> bool:
    """Close a colleague's access (sessions ended, links dead); audited by
    ``operations.disable``. False when it already was."""
    _check_reach(me, other)
    return operations.disable(other, by=me)


def enable(me: Account, other: Account) -> bool:
    """Open it again (an account that never chose its password gets a new activation
    email)."""
    _check_reach(me, other)
    return operations.enable(other, by=me)


def _check_reach(me: Account, other: Account) -> None:
    if other.id == me.id:
        raise AccountError("own_account")
    if colleague(me, other.id) is None:
        raise AccountError("establishment_not_yours")
