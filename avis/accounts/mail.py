"""Emails about accounts (activation, reminder, forgotten password), sent by a job.

Same discipline as the survey outbox: a row queued in the transaction that decides the
email, claimed under a lease, the link's token minted and its hash committed before
anything leaves, the outcome recorded after the send without holding a lock.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import mjml
import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext

from avis import clock
from avis.accounts import operations
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountMessageStatus,
    AccountStatus,
    TokenPurpose,
)
from avis.db import db
from avis.mail.backends import Batch, DeliveryState, MailBackend, Recipient, backend_for
from avis.mail.backends.base import Content
from avis.mail.message import single_line
from avis.mail.suppressions import is_suppressed_clause

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 6
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15),
           dt.timedelta(hours=1), dt.timedelta(hours=3))
#: Claimed per round: account mail is a trickle, not a campaign.
BATCH = 50

#: Which link each email carries, and the account status it still makes sense for.
PURPOSE = {AccountMail.activation: TokenPurpose.activation,
           AccountMail.activation_reminder: TokenPurpose.activation,
           AccountMail.reset: TokenPurpose.reset}
STILL_USEFUL = {AccountMail.activation: AccountStatus.invited,
                AccountMail.activation_reminder: AccountStatus.invited,
                AccountMail.reset: AccountStatus.active}


def dispatch(backend: MailBackend | None = None) -> dict[str, int]:
    """Send every due account email; counts by outcome."""
    backend = backend or backend_for(current_app)
    counts: dict[str, int] = {}
    while True:
        done = _dispatch_round(backend)
        if not done:
            return counts
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value


def _dispatch_round(backend: MailBackend) -> dict[str, int]:
    now = clock.now()
    m = AccountMessage
    due = (sa.select(m.id)
           .where(sa.or_(sa.and_(m.status == AccountMessageStatus.queued,
                                 m.next_attempt_dt <= now),
                         sa.and_(m.status == AccountMessageStatus.sending,
                                 m.lease_expires_dt <= now)))
           .order_by(m.id).limit(BATCH).with_for_update(skip_locked=True))
    claimed = list(db.session.execute(
        sa.update(m).where(m.id.in_(due.scalar_subquery()))
        .values(status=AccountMessageStatus.sending, lease_expires_dt=now + LEASE,
                attempts=m.attempts + 1)
        .returning(m.id).execution_options(synchronize_session=False)).scalars())
    if not claimed:
        db.session.commit()
        return {}
    rows = db.session.execute(
        sa.select(m.id, m.kind, m.locale, m.attempts, Account.id.label("account_id"),
                  Account.email, Account.name, Account.status, Account.role,
                  is_suppressed_clause(Account.email).label("suppressed"))
        .join(Account, Account.id == m.account_id).where(m.id.in_(claimed))).all()
    counts: dict[str, int] = {}
    outgoing: list[tuple[int, int, Batch]] = []
    for row in rows:
        kind = AccountMail(row.kind)
        if row.status != STILL_USEFUL[kind] or (kind == AccountMail.activation_reminder
                                                and row.suppressed):
            _finish(row.id, AccountMessageStatus.cancelled, "no longer needed")
            counts["cancelled"] = counts.get("cancelled", 0) + 1
            continue
        token = operations.mint_token(row.account_id, PURPOSE[kind])
        outgoing.append((row.id, row.attempts, _batch(row, kind, token)))
    # Tokens are committed before the emails leave: every link sent already works.
    db.session.commit()
    for message_id, attempts, batch in outgoing:
        delivery = backend.send(batch)[0]
        if delivery.state == DeliveryState.sent:
            _finish(message_id, AccountMessageStatus.sent, None, sent_dt=clock.now())
            outcome = "sent"
        elif delivery.state == DeliveryState.failed or attempts >= MAX_ATTEMPTS:
            _finish(message_id, AccountMessageStatus.failed, delivery.error or "refused")
            outcome = "failed"
        else:
            wait = BACKOFF[min(attempts, len(BACKOFF)) - 1] * random.uniform(0.9, 1.1)
            _finish(message_id, AccountMessageStatus.queued, delivery.error or "retry",
                    next_attempt_dt=clock.now() + wait)
            outcome = "retry"
        counts[outcome] = counts.get(outcome, 0) + 1
        db.session.commit()
    return counts


def _finish(message_id: int, status: AccountMessageStatus, error: str | None,
            **values: object) -> None:
    db.session.execute(sa.update(AccountMessage).where(AccountMessage.id == message_id)
                       .values(status=status, lease_expires_dt=None,
                               last_error=error[:500] if error else None, **values))


def _batch(row: sa.Row, kind: AccountMail, token: str) -> Batch:
    content = render(kind, link=f"{current_app.config['BASE_URL']}/login/lien/{token}",
                     email=row.email, role=str(row.role), locale=row.locale)
    recipient = Recipient(message_id=row.id, invitation_id=None, email=row.email,
                          name=single_line(row.name) if row.name else None,
                          subject=content.subject, substitutions={}, headers={})
    return Batch(content=content, recipients=[recipient], sender=current_app.config["MAIL_FROM"],
                 sender_name="avis", category=f"account_{kind}")


def render(kind: AccountMail, *, link: str, email: str, role: str, locale: str = "fr") -> Content:
    """The email with its link written in (one recipient: no substitution tags)."""
    context = {"kind": str(kind), "link": link, "email": email, "role": role,
               "activation_days": operations.TOKEN_LIFETIMES[TokenPurpose.activation].days,
               "reset_minutes": int(operations.TOKEN_LIFETIMES[TokenPurpose.reset]
                                    .total_seconds() // 60),
               "login_url": f"{current_app.config['BASE_URL']}/login"}
    with force_locale(locale):
        subject = _subject(kind)
        text = render_template("mail/account/message.txt", **context)
        source = render_template("mail/account/message.mjml.html", **context)
    html = mjml.mjml2html(source, disable_comments=True, fonts={})
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return Content(subject=single_line(subject),
                   text=re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n", html=html)


def _subject(kind: AccountMail) -> str:
    if kind == AccountMail.reset:
        return gettext("Choose a new password for avis")
    if kind == AccountMail.activation_reminder:
        return gettext("Reminder: your avis account is waiting for you")
    return gettext("Your avis account: choose your password")
