"""The audit journal: who did what to which object, and when. Append-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base


class AuditEvent(Base):
    """One action that changed data or revealed personal data, written in the same
    transaction as the action. Never updated (a database trigger refuses it); deleted
    only by the retention job. ``changes`` never holds personal data: field names with
    their old and new values for account settings, counts for exports."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        sa.Index("ix_audit_events_actor_id", "actor_id", "occurred_dt"),
    )

    #: surrogate key (also the order of events)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: when
    occurred_dt: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    #: the account that acted; None for the command line, the jobs and unknown visitors.
    #: Not a foreign key: the journal outlives what it talks about.
    actor_id: Mapped[int | None]
    #: the actor's role at that moment ("cli" and "system" for commands and jobs)
    actor_role: Mapped[str] = mapped_column(sa.String(16))
    #: what happened, dotted: "account.sign_in", "account.role_changed", "journal.exported"
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: kind of object acted on: "account", "training_body", "journal"…
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    #: its id (as text: a SIRET, an account id)
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: what changed: {"role": ["region", "moderator"]}, {"rows": 120}
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: client address of the request (staff's own, for security); None off the web
    address: Mapped[str | None] = mapped_column(sa.String(45))
