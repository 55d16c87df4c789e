"""The outbox's state changes: claim a batch under a lease, record what happened.

A sender claims rows in one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
concurrent senders take disjoint rows; SQLite has one writer at a time and ignores
the clause), commits, sends without holding any lock, then records the outcome. A
sender that dies leaves its rows ``sending``; they are claimed again once the lease
has lapsed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from avis import clock
from avis.db import among, db
from avis.mail.backends.base import Delivery, DeliveryState
from avis.mail.models import MessageStatus, OutboxMessage
from avis.surveys.models.invitations import Invitation, InvitationStatus

#: The statuses of ``ix_outbox_messages_due``: the messages a sender may claim once due.
DUE = (MessageStatus.queued, MessageStatus.sending, MessageStatus.unknown)
#: How long a claim lasts: well over one batch's send (HTTP timeout included).
LEASE = dt.timedelta(minutes=5)
#: Attempts before a message is given up as failed.
MAX_ATTEMPTS = 6
#: Wait before attempt n+1 after n failed attempts (the last value repeats), ±10 %.
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15),
           dt.timedelta(hours=1), dt.timedelta(hours=3))
#: After a timeout the provider may have the message: wait this long for one of its
#: events to say so (see ``avis.mail.events``) before sending it again.
UNKNOWN_HOLD = dt.timedelta(hours=1)
#: A rate-limit reset further away than this is not believed.
MAX_RATE_LIMIT_WAIT = dt.timedelta(hours=1)


def claim(limit: int, lease: dt.timedelta = LEASE) -> list[int]:
    """Claim up to ``limit`` due messages for this sender; the caller commits."""
    return sorted(db.session.execute(claim_statement(limit, lease)).scalars())


def claim_statement(limit: int, lease: dt.timedelta = LEASE) -> sa.Update:
    """The claim: an UPDATE returning the claimed messages' id, invitation_id,
    sequence, template and attempts (after the claim), in no order."""
    now = clock.now()
    m = OutboxMessage
    due = (
        sa.select(m.id)
        # The partial index's predicate, said again and in literals (a prepared
        # statement's parameters would not prove it): PostgreSQL does not infer it from
        # the OR below, and would walk every message ever sent in id order instead.
        .where(m.status.in_([sa.literal_column(f"'{status.value}'") for status in DUE]),
               sa.or_(
            sa.and_(m.status.in_([MessageStatus.queued, MessageStatus.unknown]),
                    m.next_attempt_dt <= now),
            sa.and_(m.status == MessageStatus.sending, m.lease_expires_dt <= now),
        ))
        .order_by(m.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # ``= ANY(ARRAY(…))``: the claimed ids are read once, then each row fetched by
        # its key; ``IN (subquery)`` made PostgreSQL hash-join the whole table per claim.
        claimed = m.id == sa.any_(sa.func.array(due.scalar_subquery()))
    else:
        claimed = m.id.in_(due.scalar_subquery())
    statement = (
        sa.update(m)
        .where(claimed)
        .values(status=MessageStatus.sending, lease_expires_dt=now + lease,
                attempts=m.attempts + 1)
        .returning(m.id, m.invitation_id, m.sequence, m.template, m.attempts)
        .execution_options(synchronize_session=False)
    )
    return statement


def cancel(message_ids: Iterable[int], reason: str) -> None:
    _update(message_ids, status=MessageStatus.cancelled, lease_expires_dt=None,
            last_error=reason)


def record(deliveries: Iterable[Delivery], attempts: dict[int, int],
           first_emails: dict[int, int]) -> dict[str, int]:
    """Record the outcomes of one send; commits.

    ``attempts`` gives each message's attempt count after its claim, ``first_emails``
    maps the message ids that are an invitation's first email to that invitation.
    """
    now = clock.now()
    counts: dict[str, int] = defaultdict(int)
    for delivery in deliveries:
        ids = delivery.message_ids
        if delivery.state == DeliveryState.sent:
            _mark_sent(ids, delivery.provider_message_id, now, first_emails)
            counts["sent"] += len(ids)
            continue
        if delivery.state == DeliveryState.failed:
            _mark_failed(ids, delivery.error or "refused", first_emails)
            counts["failed"] += len(ids)
            continue
        exhausted = [i for i in ids if attempts[i] >= MAX_ATTEMPTS]
        if exhausted:
            _mark_failed(exhausted, f"{delivery.error or delivery.state} "
                         f"(after {MAX_ATTEMPTS} attempts)", first_emails)
            counts["failed"] += len(exhausted)
        by_wait: dict[dt.datetime, list[int]] = defaultdict(list)
        for message_id in ids:
            if attempts[message_id] < MAX_ATTEMPTS:
                by_wait[_next_attempt(delivery, attempts[message_id], now)].append(message_id)
        status = (MessageStatus.unknown if delivery.state == DeliveryState.unknown
                  else MessageStatus.queued)
        for moment, group in by_wait.items():
            _update(group, status=status, next_attempt_dt=moment, lease_expires_dt=None,
                    last_error=_short(delivery.error or str(delivery.state)))
            counts[str(delivery.state)] += len(group)
    db.session.commit()
    return dict(counts)


def _next_attempt(delivery: Delivery, attempts: int, now: dt.datetime) -> dt.datetime:
    if delivery.state == DeliveryState.unknown:
        return now + UNKNOWN_HOLD
    if delivery.retry_at is not None and now < delivery.retry_at <= now + MAX_RATE_LIMIT_WAIT:
        return delivery.retry_at
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    # Jitter spreads the retries of messages that failed together.
    return now + wait * random.uniform(0.9, 1.1)


def _mark_sent(ids: list[int], provider_id: str | None, now: dt.datetime,
               first_emails: dict[int, int]) -> None:
    sent = (
        sa.update(OutboxMessage).where(among(OutboxMessage.id, ids))
        .values(status=MessageStatus.sent, sent_dt=now, provider_message_id=provider_id,
                lease_expires_dt=None, last_error=None)
        .returning(OutboxMessage.id, OutboxMessage.invitation_id, OutboxMessage.sequence))
    pending = Invitation.status == InvitationStatus.pending
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement for both tables: the invitations are found through the messages
        # just marked, without their ids coming back here and going out again.
        marked = sent.cte("marked")
        first = sa.and_(marked.c.sequence == 0, pending)
        db.session.execute(
            sa.update(Invitation).where(Invitation.id == marked.c.invitation_id)
            .values(status=sa.case((first, InvitationStatus.sent.value),
                                   else_=Invitation.status),
                    status_dt=sa.case((first, now), else_=Invitation.status_dt),
                    first_sent_dt=sa.case(
                        (marked.c.sequence == 0, sa.func.coalesce(Invitation.first_sent_dt, now)),
                        else_=Invitation.first_sent_dt),
                    last_sent_dt=now)
            .execution_options(synchronize_session=False))
        return
    rows = db.session.execute(sent.execution_options(synchronize_session=False)).all()
    firsts = [invitation for message, invitation, _ in rows if message in first_emails]
    others = [invitation for message, invitation, _ in rows if message not in first_emails]
    if firsts:
        # pending → sent is the move ``Invitation.move_to`` allows, made for the whole set;
        # an invitation a provider event already moved further keeps its status.
        db.session.execute(
            sa.update(Invitation).where(among(Invitation.id, firsts))
            .values(status=sa.case((pending, InvitationStatus.sent.value),
                                   else_=Invitation.status),
                    status_dt=sa.case((pending, now), else_=Invitation.status_dt),
                    first_sent_dt=sa.func.coalesce(Invitation.first_sent_dt, now),
                    last_sent_dt=now)
            .execution_options(synchronize_session=False))
    if others:
        db.session.execute(
            sa.update(Invitation).where(among(Invitation.id, others))
            .values(last_sent_dt=now).execution_options(synchronize_session=False))


def _mark_failed(ids: list[int], error: str, first_emails: dict[int, int]) -> None:
    _update(ids, status=MessageStatus.failed, lease_expires_dt=None, last_error=_short(error))
    firsts = [first_emails[i] for i in ids if i in first_emails]
    if firsts:
        db.session.execute(
            sa.update(Invitation)
            .where(among(Invitation.id, firsts), Invitation.status == InvitationStatus.pending)
            .values(status=InvitationStatus.failed, status_dt=clock.now())
            .execution_options(synchronize_session=False))


def _update(message_ids: Iterable[int], **values: object) -> None:
    db.session.execute(
        sa.update(OutboxMessage).where(among(OutboxMessage.id, list(message_ids)))
        .values(**values).execution_options(synchronize_session=False))


def _short(text: str) -> str:
    return text[:500]
