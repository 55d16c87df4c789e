"""Erasing a trainee's identity, and keeping it out afterwards.

The ``trainees`` row stays, emptied of the address, names and phones: its enrolments and
invitations stay too, so every count, rate and score is the same after an erasure as
before it. What could still name or reach the person goes: the hashes of their survey
links, their queued emails (cancelled: the outbox holds no address, and a cancelled first
email keeps the invitation job from queueing another), the receipts of their answers
(the answers themselves name a session, never a person) and the mail provider's events
about their invitations.

A keyed hash of the address is kept in ``erased_addresses``: an import refuses the
address and nothing is sent to it, until staff re-admit it. The key is
``ERASURE_KEY``, else derived from ``SECRET_KEY``: outside the database, so that a copy
of it alone does not let anyone test guessed addresses against it. Changing the key
forgets which addresses were erased (``ERASURE_KEY`` lets ``SECRET_KEY`` rotate).

Every function runs in the caller's transaction and never commits; each writes its audit
events, which never hold the address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.audit.models import AuditEvent
from avis.audit.operations import SYSTEM, record
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import among, db
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent
from avis.privacy.models import ErasedAddress, ErasureReason
from avis.surveys.models.answers import AnswerReceipt
from avis.surveys.models.invitations import Invitation, InvitationToken

if TYPE_CHECKING:
    from avis.accounts.models import Account

#: Trainees erased per round of statements (bounds parameter lists and memory).
BATCH = 5_000
#: Why an import refuses an erased address, by the reason of the erasure.
IMPORT_REFUSALS = {
    ErasureReason.request: "adresse effacée à la demande de la personne",
    ErasureReason.self_service: "adresse effacée à la demande de la personne",
    ErasureReason.retention: "adresse effacée au terme de la durée de conservation",
}
#: What an erasure writes in the outbox rows it cancels (no personal data).
CANCELLED = "erased"


def normalise(email: str) -> str:
    return email.strip().lower()


def _key() -> bytes:
    secret = current_app.config["ERASURE_KEY"] or current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, b"avis.privacy.erased_addresses", hashlib.sha256).digest()


def address_digest(email: str) -> bytes:
    """The key of an address in ``erased_addresses``."""
    return hmac.new(_key(), normalise(email).encode(), hashlib.sha256).digest()


def address_digests(emails: Sequence[str]) -> list[bytes]:
    """``address_digest`` of many addresses, already normalised (an import's batch)."""
    base = hmac.new(_key(), digestmod=hashlib.sha256)
    digests = []
    for email in emails:
        mac = base.copy()
        mac.update(email.encode())
        digests.append(mac.digest())
    return digests


def has_refused_addresses() -> bool:
    """Whether any address is refused at all: when none is, an import skips the check."""
    return db.session.scalar(
        sa.select(ErasedAddress.id).where(ErasedAddress.readmitted_dt.is_(None)).limit(1)
    ) is not None


def refusals(emails: Sequence[str]) -> list[str | None]:
    """For each normalised address, why an import must refuse it, or None. One query for
    the whole batch."""
    digests = address_digests(emails)
    found: dict[bytes, ErasureReason] = {}
    unique = sorted(set(digests))
    for start in range(0, len(unique), 1_000):
        found.update(db.session.execute(
            sa.select(ErasedAddress.digest, ErasedAddress.reason).where(
                ErasedAddress.digest.in_(unique[start:start + 1_000]),
                ErasedAddress.readmitted_dt.is_(None))).all())
    return [IMPORT_REFUSALS[found[d]] if d in found else None for d in digests]


def is_refused(email: str) -> bool:
    return db.session.scalar(sa.select(ErasedAddress.id).where(
        ErasedAddress.digest == address_digest(email),
        ErasedAddress.readmitted_dt.is_(None))) is not None


def erase_trainees(trainee_ids: Iterable[int] | sa.Select, *, reason: str,
                   actor: Account | None = None) -> int:
    """Erase the identity of these trainees; return how many were erased now (those
    already erased are skipped). Flushes; the caller commits."""
    reason = ErasureReason(reason)
    chosen = sa.select(Trainee.id, Trainee.email).where(Trainee.erased_dt.is_(None))
    if isinstance(trainee_ids, sa.Select):
        targets = db.session.execute(chosen.where(Trainee.id.in_(trainee_ids))).all()
    else:
        ids = sorted({int(i) for i in trainee_ids})
        targets = []
        for start in range(0, len(ids), BATCH):
            targets.extend(db.session.execute(
                chosen.where(among(Trainee.id, ids[start:start + BATCH]))).all())
    targets.sort()
    for start in range(0, len(targets), BATCH):
        batch = targets[start:start + BATCH]
        _erase_batch([row.id for row in batch], [row.email for row in batch if row.email],
                     reason, actor)
    db.session.flush()
    return len(targets)


def erase_email(email: str, *, reason: str, actor: Account | None = None) -> int:
    """Erase the trainee with this address (case-insensitive) and refuse the address from
    now on, even when no trainee has it (a request may come before the import). Returns
    how many trainees were erased now: 0 or 1."""
    reason = ErasureReason(reason)
    email = normalise(email)
    trainee_id = db.session.scalar(sa.select(Trainee.id).where(Trainee.email == email))
    if trainee_id is not None:
        return erase_trainees([trainee_id], reason=reason, actor=actor)
    now = clock.now()
    digest = address_digest(email)
    existing = db.session.scalar(sa.select(ErasedAddress).where(ErasedAddress.digest == digest))
    if existing is not None and existing.readmitted_dt is None:
        return 0  # already refused: nothing changes
    if existing is None:
        existing = ErasedAddress(digest=digest, reason=reason)
        db.session.add(existing)
    existing.reason = reason
    existing.erased_dt = now
    existing.erased_by_id = actor.id if actor is not None else None
    existing.readmitted_dt = existing.readmitted_by_id = None
    db.session.flush()
    record("trainee.erased", object_type="erased_address", object_id=existing.id,
           changes={"reason": str(reason), "trainee_known": False}, actor=actor,
           actor_role=_role(reason, actor))
    return 0


def readmit(email: str, actor: Account | None = None) -> bool:
    """Let an erased address be imported and written to again. False when it was not
    refused. Flushes; the caller commits."""
    erased = db.session.scalar(sa.select(ErasedAddress).where(
        ErasedAddress.digest == address_digest(email), ErasedAddress.readmitted_dt.is_(None)))
    if erased is None:
        return False
    erased.readmitted_dt = clock.now()
    erased.readmitted_by_id = actor.id if actor is not None else None
    db.session.flush()
    record("trainee.readmitted", object_type="erased_address", object_id=erased.id,
           changes={"reason": str(erased.reason)}, actor=actor)
    return True


def erasure_of(email: str) -> ErasedAddress | None:
    """The erasure record of an address, refused or re-admitted; None if never erased."""
    return db.session.scalar(
        sa.select(ErasedAddress).where(ErasedAddress.digest == address_digest(email)))


def _role(reason: ErasureReason, actor: Account | None) -> str | None:
    return SYSTEM if actor is None and reason is ErasureReason.retention else None


def _erase_batch(ids: list[int], emails: list[str], reason: ErasureReason,
                 actor: Account | None) -> None:
    now = clock.now()
    invitations = (sa.select(Invitation.id)
                   .join(Enrolment, Enrolment.id == Invitation.enrolment_id)
                   .where(among(Enrolment.trainee_id, ids)))
    for model in (InvitationToken, AnswerReceipt, ProviderEvent):
        db.session.execute(
            sa.delete(model).where(model.invitation_id.in_(invitations))
            .execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.invitation_id.in_(invitations),
               OutboxMessage.status.in_([MessageStatus.queued, MessageStatus.unknown]))
        .values(status=MessageStatus.cancelled, lease_expires_dt=None, last_error=CANCELLED)
        .execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(Trainee).where(among(Trainee.id, ids))
        .values(email=None, last_name=None, first_name=None, phone_1=None, phone_2=None,
                erased_dt=now)
        .execution_options(synchronize_session=False))
    if emails:
        _refuse(address_digests([normalise(e) for e in emails]), reason, actor, now)
    _record_erasures(ids, reason, actor)
    # Trainees already loaded in the session must not write their old values back.
    erased = set(ids)
    for trainee in [o for o in db.session.identity_map.values() if isinstance(o, Trainee)]:
        if trainee.id in erased:
            db.session.expire(trainee)


def _refuse(digests: list[bytes], reason: ErasureReason, actor: Account | None,
            now: object) -> None:
    """Add the digests to ``erased_addresses``; a re-admitted one is refused again."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = ErasedAddress.__table__
    actor_id = actor.id if actor is not None else None
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.digest],
        set_={"reason": statement.excluded.reason, "erased_dt": statement.excluded.erased_dt,
              "erased_by_id": statement.excluded.erased_by_id, "readmitted_dt": None,
              "readmitted_by_id": None},
        where=table.c.readmitted_dt.is_not(None))
    db.session.execute(statement, [
        {"digest": d, "reason": reason.name, "erased_dt": now, "erased_by_id": actor_id,
         "readmitted_dt": None, "readmitted_by_id": None} for d in digests])


def _record_erasures(ids: list[int], reason: ErasureReason, actor: Account | None) -> None:
    """One audit event per trainee: the first through ``record`` (which knows the actor and
    the request), the others copied from it in one statement."""
    changes = {"reason": str(reason)}
    first = record("trainee.erased", object_type="trainee", object_id=ids[0], changes=changes,
                   actor=actor, actor_role=_role(reason, actor))
    if len(ids) == 1:
        return
    db.session.execute(sa.insert(AuditEvent), [
        {"occurred_dt": first.occurred_dt, "actor_id": first.actor_id,
         "actor_role": first.actor_role, "action": first.action, "object_type": "trainee",
         "object_id": str(trainee_id), "changes": changes, "address": first.address}
        for trainee_id in ids[1:]])
