"""Jobs of accounts: training bodies invited to their space, account mail, old sessions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.accounts import operations, sessions
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountMessageStatus,
    AccountStatus,
    Role,
)
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.mail.suppressions import is_suppressed_clause
from avis.surveys.models.answers import Answer, CommentStatus

#: A body that has not activated its account gets one reminder, this long after.
REMINDER_AFTER = dt.timedelta(days=7)


def invite_training_bodies() -> dict[str, int]:
    """Open an account for every training body with a published review and no account,
    at its contact address, and email it the activation link; once (an account, even
    disabled, is never opened again), never to a suppressed address. Then remind, once,
    those who have not activated after seven days. Off with
    ``AVIS_BODY_ACCOUNT_INVITATIONS=0``."""
    if not current_app.config["BODY_ACCOUNT_INVITATIONS"]:
        return {"invited": 0, "reminded": 0, "skipped": 0}
    address = sa.func.lower(sa.func.trim(TrainingBody.contact_email))
    published = sa.exists().where(
        Answer.training_body_id == TrainingBody.id,
        sa.or_(Answer.comment_status.is_(None), Answer.comment_status == CommentStatus.published))
    has_account = sa.exists().where(Account.role == Role.organisation, sa.or_(
        Account.siret == TrainingBody.siret, Account.siren == TrainingBody.siren))
    address_taken = sa.exists().where(Account.email == address)
    candidates = db.session.execute(
        sa.select(TrainingBody.siret, address.label("email"))
        .where(TrainingBody.contact_email.is_not(None), address != "", published,
               ~has_account, ~address_taken, ~is_suppressed_clause(address))
        .order_by(TrainingBody.id)).all()
    invited = skipped = 0
    seen: set[str] = set()
    for siret, email in candidates:
        if email in seen:
            # Two establishments with one address: one account per person; the first
            # establishment's. Staff can widen it to the SIREN.
            skipped += 1
            continue
        seen.add(email)
        try:
            with db.session.begin_nested():
                operations.create(email, operations.AccountScope(Role.organisation, siret=siret),
                                  actor_role="system", reason="published_review")
        except operations.AccountError:
            skipped += 1
            continue
        invited += 1
    reminded = _remind_bodies()
    db.session.commit()
    return {"invited": invited, "reminded": reminded, "skipped": skipped}


def _remind_bodies() -> int:
    sent_activation = sa.exists().where(
        AccountMessage.account_id == Account.id, AccountMessage.kind == AccountMail.activation,
        AccountMessage.status == AccountMessageStatus.sent,
        AccountMessage.sent_dt <= clock.now() - REMINDER_AFTER)
    reminded = sa.exists().where(AccountMessage.account_id == Account.id,
                                 AccountMessage.kind == AccountMail.activation_reminder)
    due = db.session.scalars(
        sa.select(Account).where(Account.role == Role.organisation,
                                 Account.status == AccountStatus.invited,
                                 Account.created_by_id.is_(None), sent_activation, ~reminded,
                                 ~is_suppressed_clause(Account.email))).all()
    for account in due:
        operations.queue_mail(account, AccountMail.activation_reminder)
    return len(due)


def dispatch_account_mail() -> dict[str, int]:
    """Send the account emails that are due."""
    from avis.accounts.mail import dispatch

    return dispatch()


def prune_account_sessions() -> dict[str, int]:
    """Forget sessions past their lifetimes and links past their expiry."""
    from avis.accounts.models import AccountToken

    ended = sessions.prune_expired()
    links = db.session.execute(sa.delete(AccountToken).where(
        AccountToken.expires_dt < clock.now() - dt.timedelta(days=1))).rowcount
    db.session.commit()
    return {"sessions": ended, "links": links}
