"""The suppression list: addresses that get no more email, whatever job asks."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from avis import clock
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db, email_digest
from avis.mail.models import MessageStatus, OutboxMessage, Suppression, SuppressionReason
from avis.surveys.models.invitations import OPEN_STATUSES, Invitation, InvitationStatus

#: What a suppression does to the trainee's invitations still open.
_INVITATION_STATUS = {
    SuppressionReason.bounce: InvitationStatus.bounced,
    SuppressionReason.complaint: InvitationStatus.complained,
    SuppressionReason.unsubscribe: InvitationStatus.unsubscribed,
}


def digest(email: str) -> bytes:
    """The suppression key of an address (the same as SQL ``email_digest``)."""
    return hashlib.sha256(email.strip().lower().encode()).digest()


def is_suppressed_clause(email_column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """SQL condition: the address in ``email_column`` is on the suppression list."""
    return sa.exists().where(Suppression.email_digest == email_digest(email_column))


def is_suppressed(email: str) -> bool:
    query = sa.select(Suppression.id).where(Suppression.email_digest == digest(email))
    return db.session.scalar(query) is not None


def suppress(email: str, reason: SuppressionReason) -> bool:
    """Put an address on the list and close what would still write to it.

    Open invitations of the trainee take the matching status and their queued emails
    are cancelled. Returns False when the address was already suppressed (the first
    reason is kept). Flushes; the caller commits.
    """
    now = clock.now()
    key = digest(email)
    existing = db.session.scalar(sa.select(Suppression).where(Suppression.email_digest == key))
    if existing is None:
        with db.session.begin_nested():
            db.session.add(Suppression(email_digest=key, reason=reason, created_dt=now))
    trainee_id = db.session.scalar(
        sa.select(Trainee.id).where(Trainee.email == email.strip().lower()))
    if trainee_id is not None:
        close_invitations_of(trainee_id, _INVITATION_STATUS[reason])
    return existing is None


def close_invitations_of(trainee_id: int, status: InvitationStatus) -> None:
    """Move the trainee's open invitations to ``status`` and cancel their queued emails."""
    now = clock.now()
    invitation_ids = sa.select(Invitation.id).join(
        Enrolment, Enrolment.id == Invitation.enrolment_id).where(
        Enrolment.trainee_id == trainee_id)
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id.in_(invitation_ids), Invitation.status.in_(OPEN_STATUSES))
        .values(status=status, status_dt=now)
        .execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.invitation_id.in_(invitation_ids),
               OutboxMessage.status.in_([MessageStatus.queued, MessageStatus.unknown]))
        .values(status=MessageStatus.cancelled, last_error=f"suppressed: {status}")
        .execution_options(synchronize_session=False))
