"""SendGrid events, applied once each: what the provider tells us about our emails.

SendGrid posts events in batches, retries a batch for 24 hours when we do not answer
2xx, sometimes posts it twice, and gives no order. So every event is recorded under
its ``sg_event_id`` first (a unique row; an event already recorded changes nothing,
even when two deliveries of a batch run at the same time), timestamps keep the
earliest value whatever the arrival order, and status moves the state machine
refuses are simply not made. Nothing here raises for an odd event, and nothing logs
an address.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from avis import clock
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent, SuppressionReason
from avis.mail.suppressions import suppress
from avis.surveys.models.invitations import Invitation, InvitationStatus

logger = logging.getLogger(__name__)

#: The custom argument carrying our opaque invitation id (SendGrid copies custom_args
#: to the top level of each event, as strings).
INVITATION_ARG = "invitation"
#: Event types that show the provider has the email: it must not be sent again.
ACCEPTED_TYPES = frozenset({"processed", "delivered"})
#: Event types that stop all email to the address, and why.
SUPPRESSING_TYPES = {
    "dropped": SuppressionReason.bounce,
    "spamreport": SuppressionReason.complaint,
    "unsubscribe": SuppressionReason.unsubscribe,
    "group_unsubscribe": SuppressionReason.unsubscribe,
}
#: A ``bounce`` event of this type is a temporary refusal (greylisting, rate limit…).
TEMPORARY_BOUNCE = "blocked"
#: How much earlier than an outbox row's creation an event may say it happened and
#: still be about that row: SendGrid's timestamps are whole seconds from another clock.
CLOCK_SLACK = dt.timedelta(minutes=10)

_MAX_EVENT_ID = 100  # ProviderEvent.event_id
_MAX_EVENT_TYPE = 32  # ProviderEvent.event_type
_MAX_DB_INTEGER = 2**31 - 1  # an id beyond this is not ours (and would break the query)
_CHUNK = 500  # ids per IN (...): SQLite limits bound parameters


@dataclass(frozen=True)
class Event:
    """The parts of a SendGrid event avis uses, checked and typed."""

    event_id: str
    type: str
    occurred_dt: dt.datetime | None
    invitation_id: int | None
    email: str | None
    #: ``bounce`` events only: ``bounce`` or ``blocked``
    bounce_type: str | None
    #: SendGrid's per-message id; it starts with the X-Message-ID of our request
    sg_message_id: str | None

    @property
    def request_id(self) -> str | None:
        """The X-Message-ID of the Mail Send request that carried the email."""
        return self.sg_message_id.split(".", 1)[0] if self.sg_message_id else None


def apply_events(events: Iterable[object]) -> dict[str, int]:
    """Apply a webhook batch; flushes, the caller commits once.

    Returns counts: ``received``, ``applied`` (new events recorded and acted on),
    ``duplicates`` (already seen), ``malformed`` (not an event we can identify:
    skipped), ``unknown_invitation`` (applied without an invitation of ours).
    """
    counts: Counter[str] = Counter()
    parsed: list[Event] = []
    for raw in events:
        counts["received"] += 1
        event = parse_event(raw)
        if event is None:
            counts["malformed"] += 1
        else:
            parsed.append(event)
    seen = _already_recorded([e.event_id for e in parsed])
    fresh = []
    for event in parsed:
        if event.event_id in seen:
            counts["duplicates"] += 1
        else:
            seen.add(event.event_id)  # the same event twice in one batch
            fresh.append(event)
    # Invitations in id order, events in time order: concurrent batches take row locks
    # in the same order (no deadlock), and each invitation sees its events as they came.
    fresh.sort(key=lambda e: (e.invitation_id or 0, e.occurred_dt or clock.now(), e.event_id))
    invitations = _lock_invitations({e.invitation_id for e in fresh if e.invitation_id})
    for event in fresh:
        invitation = invitations.get(event.invitation_id) if event.invitation_id else None
        if not _record(event, invitation):
            # A concurrent delivery of the same batch recorded it first.
            counts["duplicates"] += 1
            continue
        counts["applied"] += 1
        if invitation is None:
            counts["unknown_invitation"] += 1
        _apply(event, invitation)
    db.session.flush()
    summary = {key: counts[key] for key in
               ("received", "applied", "duplicates", "malformed", "unknown_invitation")}
    logger.info("sendgrid events: %s", summary)
    return summary


def parse_event(raw: object) -> Event | None:
    """The event, or None when it lacks what identifies it (an id and a type)."""
    if not isinstance(raw, dict):
        return None
    event_id = raw.get("sg_event_id")
    event_type = raw.get("event")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= _MAX_EVENT_ID:
        return None
    if not isinstance(event_type, str) or not event_type:
        return None
    return Event(
        event_id=event_id,
        type=event_type[:_MAX_EVENT_TYPE],
        occurred_dt=_instant(raw.get("timestamp")),
        invitation_id=_invitation_id(raw.get(INVITATION_ARG)),
        email=_email(raw.get("email")),
        bounce_type=_text(raw.get("type")),
        sg_message_id=_text(raw.get("sg_message_id")),
    )


def _apply(event: Event, invitation: Invitation | None) -> None:
    if invitation is not None:
        when = event.occurred_dt or clock.now()
        if event.type in ACCEPTED_TYPES:
            _confirm_sent(invitation, event, when)
        if event.type == "delivered":
            if invitation.delivered_dt is None or when < invitation.delivered_dt:
                invitation.delivered_dt = when
            if invitation.can_move_to(InvitationStatus.delivered):
                invitation.move_to(InvitationStatus.delivered)
        elif event.type == "open":
            if invitation.opened_dt is None or when < invitation.opened_dt:
                invitation.opened_dt = when
            if invitation.can_move_to(InvitationStatus.opened):
                invitation.move_to(InvitationStatus.opened)
    reason = suppression_reason(event)
    if reason is not None and event.email is not None:
        db.session.flush()
        suppress(event.email, reason)
        # ``suppress`` moves invitations with bulk UPDATEs the loaded objects do not see:
        # reload them before the next event reads their status.
        db.session.expire_all()


def suppression_reason(event: Event) -> SuppressionReason | None:
    """Why the event stops email to its address, or None if it does not."""
    if event.type == "bounce":
        return None if event.bounce_type == TEMPORARY_BOUNCE else SuppressionReason.bounce
    return SUPPRESSING_TYPES.get(event.type)


def _confirm_sent(invitation: Invitation, event: Event, when: dt.datetime) -> None:
    """The provider has an email of the invitation: one we recorded as "outcome unknown"
    (a timeout) is in fact sent, and must not be sent again."""
    m = OutboxMessage
    request_id = event.request_id
    if request_id is not None and db.session.scalar(
            sa.select(m.id).where(m.invitation_id == invitation.id,
                                  m.provider_message_id == request_id).limit(1)) is not None:
        return  # about an email we already know was sent, not the unknown one
    sequences = db.session.execute(
        sa.update(m)
        .where(m.invitation_id == invitation.id, m.status == MessageStatus.unknown,
               # An event older than the row is about an earlier email of the invitation.
               m.created_dt <= when + CLOCK_SLACK)
        .values(status=MessageStatus.sent, sent_dt=when, provider_message_id=request_id,
                lease_expires_dt=None, last_error=None)
        .returning(m.sequence)
        .execution_options(synchronize_session=False)).scalars().all()
    if not sequences:
        return
    # What the dispatcher records on a successful send (see ``avis.mail.outbox``).
    if 0 in sequences:
        if invitation.status == InvitationStatus.pending:
            invitation.move_to(InvitationStatus.sent, at=when)
        if invitation.first_sent_dt is None:
            invitation.first_sent_dt = when
    if invitation.last_sent_dt is None or invitation.last_sent_dt < when:
        invitation.last_sent_dt = when


def _record(event: Event, invitation: Invitation | None) -> bool:
    """Insert the event's row; False when it exists already (a concurrent delivery).

    In a savepoint, so that the unique violation leaves the rest of the batch intact;
    on PostgreSQL the second inserter waits for the first's commit, then fails here.
    """
    try:
        with db.session.begin_nested():
            db.session.add(ProviderEvent(
                event_id=event.event_id, event_type=event.type,
                invitation_id=invitation.id if invitation else None,
                occurred_dt=event.occurred_dt, received_dt=clock.now()))
    except IntegrityError:
        return False
    return True


def _already_recorded(event_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(event_ids), _CHUNK):
        chunk = event_ids[start:start + _CHUNK]
        found.update(db.session.scalars(
            sa.select(ProviderEvent.event_id).where(ProviderEvent.event_id.in_(chunk))))
    return found


def _lock_invitations(ids: set[int]) -> dict[int, Invitation]:
    """Load and lock the batch's invitations, in id order; unknown ids are absent."""
    ordered = sorted(ids)
    invitations: dict[int, Invitation] = {}
    for start in range(0, len(ordered), _CHUNK):
        rows = db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.id.in_(ordered[start:start + _CHUNK]))
            .order_by(Invitation.id)
            .with_for_update()
            .execution_options(populate_existing=True))
        invitations.update((invitation.id, invitation) for invitation in rows)
    return invitations


def _invitation_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    # Length first: int() of thousands of digits is slow, then refused.
    if isinstance(value, str) and len(value) <= 10 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 < value <= _MAX_DB_INTEGER:
        return value
    return None


def _instant(value: object) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _email(value: object) -> str | None:
    if isinstance(value, str) and "@" in value and len(value) <= 254:
        return value
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
