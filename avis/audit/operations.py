"""Writing the journal. ``record`` adds an event to the current transaction: it is
committed with the action it describes, or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from avis import clock
from avis.audit.models import AuditEvent
from avis.db import db

if TYPE_CHECKING:
    from avis.accounts.models import Account

#: ``actor_role`` of events caused by the command line and by the scheduled jobs.
CLI = "cli"
SYSTEM = "system"


def record(action: str, *, object_type: str | None = None, object_id: object = None,
           changes: dict[str, Any] | None = None, actor: Account | None = None,
           actor_role: str | None = None) -> AuditEvent:
    """Add one event to the session (the caller commits). The actor is ``actor``, else
    the signed-in account of the request, else nobody (``actor_role`` says who)."""
    if actor is None and has_request_context():
        from avis.accounts.sessions import signed_in_account

        actor = signed_in_account()
    event = AuditEvent(
        occurred_dt=clock.now(),
        actor_id=actor.id if actor is not None else None,
        actor_role=str(actor.role) if actor is not None else (actor_role or _default_role()),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=changes or {},
        address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def _default_role() -> str:
    return "anonymous" if has_request_context() else CLI
