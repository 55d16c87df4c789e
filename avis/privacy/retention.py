"""The retention job: every period of the settings, enforced once a day.

``apply_retention`` runs each rule as one set-based statement (or a few), in ONE
transaction for the whole run, with one journal event holding the counts: a run is
applied whole or not at all, and the journal never claims a deletion that was rolled
back. Every rule selects by age, so a second run the same day finds nothing (zeros), and
a run missed one day is caught up by the next.

The rules:

* trainees whose last session ended more than ``RETENTION_MONTHS`` months ago are erased
  in place (``avis.privacy.erasure.erase_trainees``, reason "retention"), as on request;
* provider events older than ``PROVIDER_EVENT_RETENTION_DAYS``;
* emails of closed invitations (answered, bounced, complained, unsubscribed, expired,
  failed) closed more than ``OUTBOX_RETENTION_DAYS`` ago, only once the email itself is
  final (sent, cancelled or failed): an email still queued, being sent or of unknown
  outcome is kept, whatever its age;
* staff accounts (admin, moderator, region) without a sign-in for
  ``STAFF_INACTIVE_MONTHS`` months are disabled, as an admin would (sessions ended, links
  revoked, one journal event each). Training bodies' accounts are not staff: a body may
  sign in once a year to read its reviews, and a disabled body account is never invited
  again (``avis.accounts.jobs.invite_training_bodies``);
* uploaded trainee files and their rejected rows, ``UPLOAD_RETENTION_DAYS`` after the
  upload's import ended (``avis.monitoring.uploads.remove_old_folders``, which the
  minute's import job also runs);
* journal events older than ``AUDIT_RETENTION_MONTHS`` (the table refuses UPDATE, not
  DELETE).

Job runs are not touched here: ``prune_job_runs`` forgets them after 30 days (they hold
counts, never personal data). Comments older than ``REVIEW_ARCHIVE_MONTHS`` need no work:
the public queries leave them out by date (``avis.public.reviews.in_review_window``), and
the scores' hourly refresh recomputes the sessions whose answers left the window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.accounts import operations as account_operations
from avis.accounts.models import Account, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.audit.operations import SYSTEM, record
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent
from avis.surveys.jobs import add_months
from avis.surveys.models.invitations import OPEN_STATUSES, Invitation, InvitationStatus

#: Roles of the staff accounts disabled after ``STAFF_INACTIVE_MONTHS`` without use.
STAFF_ROLES = (Role.admin, Role.moderator, Role.region)
#: An email in one of these statuses will never be sent (again): it may go.
FINAL_MESSAGES = (MessageStatus.sent, MessageStatus.cancelled, MessageStatus.failed)
#: An invitation in one of these statuses gets no more email.
CLOSED_INVITATIONS = tuple(s for s in InvitationStatus if s not in OPEN_STATUSES)


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` the same time of day ``months`` months earlier (31 → 28/29/30)."""
    moment = moment.astimezone(dt.UTC)
    return dt.datetime.combine(add_months(moment.date(), -months), moment.time(), dt.UTC)


def apply_retention() -> dict[str, int]:
    """Apply every retention rule; commit once; the counts per rule."""
    config = current_app.config
    now = clock.now()
    today = clock.today()
    # Files first: they cannot be rolled back, and were due to go whatever happens next.
    from avis.monitoring.uploads import remove_old_folders

    counts = {"upload_folders": remove_old_folders()}
    counts["trainees_erased"] = erase_former_trainees(
        add_months(today, -config["RETENTION_MONTHS"]))
    counts["provider_events"] = delete_provider_events(
        now - dt.timedelta(days=config["PROVIDER_EVENT_RETENTION_DAYS"]))
    counts["outbox_messages"] = delete_closed_outbox(
        now - dt.timedelta(days=config["OUTBOX_RETENTION_DAYS"]))
    counts["staff_disabled"] = disable_inactive_staff(
        months_before(now, config["STAFF_INACTIVE_MONTHS"]))
    counts["audit_events"] = delete_audit_events(
        months_before(now, config["AUDIT_RETENTION_MONTHS"]))
    record("privacy.retention_applied", object_type="retention", changes=dict(counts),
           actor_role=SYSTEM)
    db.session.commit()
    return counts


def former_trainees(ended_before: dt.date) -> sa.Select[Any]:
    """Ids of the trainees not yet erased whose every session ended before
    ``ended_before``; and of those without any enrolment left, first seen before it."""
    last_session_ended = (
        sa.select(Enrolment.trainee_id)
        .join(Session, Session.id == Enrolment.session_id)
        .group_by(Enrolment.trainee_id)
        .having(sa.func.max(Session.end_date) < ended_before))
    enrolled = sa.select(Enrolment.trainee_id)
    first_seen_before = dt.datetime.combine(ended_before, dt.time(), clock.PARIS)
    return sa.select(Trainee.id).where(
        Trainee.erased_dt.is_(None),
        sa.or_(Trainee.id.in_(last_session_ended),
               sa.and_(Trainee.id.not_in(enrolled), Trainee.created_dt < first_seen_before)))


def erase_former_trainees(ended_before: dt.date) -> int:
    from avis.privacy.erasure import erase_trainees

    return erase_trainees(former_trainees(ended_before), reason="retention")


def delete_provider_events(received_before: dt.datetime) -> int:
    return db.session.execute(
        sa.delete(ProviderEvent).where(ProviderEvent.received_dt < received_before)
        .execution_options(synchronize_session=False)).rowcount


def delete_closed_outbox(closed_before: dt.datetime) -> int:
    """The final emails of the invitations closed before ``closed_before``. An
    invitation unsubscribed may still be answered: that moves its ``status_dt`` on, so
    its emails wait again (no harm: none is queued for it)."""
    closed = sa.select(Invitation.id).where(Invitation.status.in_(CLOSED_INVITATIONS),
                                            Invitation.status_dt < closed_before)
    return db.session.execute(
        sa.delete(OutboxMessage)
        .where(OutboxMessage.status.in_(FINAL_MESSAGES),
               OutboxMessage.created_dt < closed_before,
               OutboxMessage.invitation_id.in_(closed))
        .execution_options(synchronize_session=False)).rowcount


def inactive_staff(unused_since: dt.datetime) -> sa.Select[Any]:
    """Staff accounts not disabled, with no sign-in, no request and no password chosen
    since ``unused_since``, and created before it (an account never used counts from
    its creation, or from its activation when it chose a password)."""

    def before(column: Any) -> Any:
        return sa.or_(column.is_(None), column < unused_since)

    return sa.select(Account).where(
        Account.role.in_(STAFF_ROLES), Account.status != AccountStatus.disabled,
        Account.created_dt < unused_since, before(Account.last_login_dt),
        before(Account.last_seen_dt), before(Account.password_changed_dt)
    ).order_by(Account.id)


def disable_inactive_staff(unused_since: dt.datetime) -> int:
    """Disable them one by one as an admin would (sessions ended, mail cancelled, links
    revoked, a journal event each): staff are counted in tens, not thousands."""
    disabled = 0
    for account in db.session.scalars(inactive_staff(unused_since)).all():
        disabled += account_operations.disable(account, by=None, actor_role=SYSTEM)
    return disabled


def delete_audit_events(occurred_before: dt.datetime) -> int:
    return db.session.execute(
        sa.delete(AuditEvent).where(AuditEvent.occurred_dt < occurred_before)
        .execution_options(synchronize_session=False)).rowcount
