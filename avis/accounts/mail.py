"""Emails about accounts (activation, reminder, forgotten password) and to their owners
(a report decided, a moderation backlog), sent by a job.

Same discipline as the survey outbox: a row queued in the transaction that decides the
email, claimed under a lease, the link's token minted and its hash committed before
anything leaves, the outcome recorded after the send without holding a lock. The emails
that tell something (a decision, a backlog) carry no token: only a link to the back
office, where one signs in.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import mjml
import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from avis import clock
from avis.accounts import operations
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountMessageStatus,
    AccountStatus,
    Role,
    TokenPurpose,
)
from avis.bodies import notifications as body_notifications
from avis.catalog.models.courses import Course
from avis.db import db
from avis.mail.backends import Batch, DeliveryState, MailBackend, Recipient, backend_for
from avis.mail.backends.base import Content
from avis.mail.message import single_line
from avis.mail.suppressions import is_suppressed_clause
from avis.moderation import statistics
from avis.moderation.models import Report, ReportStatus, Subject
from avis.surveys.models.answers import Answer

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 6
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15),
           dt.timedelta(hours=1), dt.timedelta(hours=3))
#: Claimed per round: account mail is a trickle, not a campaign.
BATCH = 50

#: The token each email's link carries (the other emails carry none).
PURPOSE = {AccountMail.activation: TokenPurpose.activation,
           AccountMail.activation_reminder: TokenPurpose.activation,
           AccountMail.reset: TokenPurpose.reset}
#: The account status each email still makes sense for.
STILL_USEFUL = {AccountMail.activation: AccountStatus.invited,
                AccountMail.activation_reminder: AccountStatus.invited,
                AccountMail.reset: AccountStatus.active,
                AccountMail.report_decided: AccountStatus.active,
                AccountMail.moderation_backlog: AccountStatus.active,
                AccountMail.alerts_digest: AccountStatus.active,
                AccountMail.body_digest: AccountStatus.active,
                AccountMail.reply_decided: AccountStatus.active}
#: Emails nobody asked for at that moment: never to a suppressed address. (An activation
#: or a new password is asked for, by staff or the person: it is tried anyway.)
UNASKED = frozenset({AccountMail.activation_reminder, AccountMail.report_decided,
                     AccountMail.moderation_backlog, AccountMail.alerts_digest,
                     AccountMail.body_digest, AccountMail.reply_decided})

#: Where a body reads its reviews, replies and reports (the links of its emails).
BODY_REVIEWS_PATH = "/admin/mon-organisme/avis"


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
        sa.select(m.id, m.kind, m.locale, m.attempts, m.report_id,
                  Account.id.label("account_id"),
                  Account.email, Account.name, Account.status, Account.role,
                  is_suppressed_clause(Account.email).label("suppressed"))
        .join(Account, Account.id == m.account_id).where(m.id.in_(claimed))).all()
    counts: dict[str, int] = {}
    outgoing: list[tuple[int, int, Batch]] = []
    for row in rows:
        kind = AccountMail(row.kind)
        content = None
        # Filled by the emails a body can turn off: their one-click unsubscribe.
        headers: dict[str, str] = {}
        if row.status == STILL_USEFUL[kind] and not (kind in UNASKED and row.suppressed):
            content = _content(row, kind, headers)
        if content is None:
            _finish(row.id, AccountMessageStatus.cancelled, "no longer needed")
            counts["cancelled"] = counts.get("cancelled", 0) + 1
            continue
        outgoing.append((row.id, row.attempts, _batch(row, kind, content, headers)))
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


def _content(row: sa.Row, kind: AccountMail, headers: dict[str, str]) -> Content | None:
    """The email of ``row``; None when there is nothing left to tell. The emails a body
    can turn off put their unsubscribe headers in ``headers``."""
    base_url = current_app.config["BASE_URL"]
    if kind == AccountMail.report_decided:
        return _report_decided(row, base_url, headers)
    if kind == AccountMail.body_digest:
        return _body_digest(row, base_url, headers)
    if kind == AccountMail.reply_decided:
        return _reply_decided(row, base_url, headers)
    if kind == AccountMail.moderation_backlog:
        return _moderation_backlog(row, base_url)
    if kind == AccountMail.alerts_digest:
        return _alerts_digest(row, base_url)
    token = operations.mint_token(row.account_id, PURPOSE[kind])
    return render(kind, link=f"{base_url}/login/lien/{token}", email=row.email,
                  role=str(row.role), locale=row.locale)


def _report_decided(row: sa.Row, base_url: str, headers: dict[str, str]) -> Content | None:
    """The decision on the body's report and the moderator's message; the review is named
    by its public title and its course, which the body already reads on its page."""
    if not body_notifications.wants_report_decisions(row.account_id):
        return None
    found = db.session.execute(
        sa.select(Report.status, Report.message, Answer.comment_title,
                  Course.title.label("course"))
        .join(Answer, Answer.id == Report.answer_id).join(Course, Course.id == Answer.course_id)
        .where(Report.id == row.report_id)).first()
    if found is None or found.status == ReportStatus.open:
        return None
    return render(AccountMail.report_decided, link=base_url + BODY_REVIEWS_PATH,
                  locale=row.locale,
                  title=found.comment_title, course=found.course,
                  kept=found.status == ReportStatus.kept, message=found.message,
                  unsubscribe_link=_unsubscribe(row, AccountMail.report_decided, headers))


def _body_digest(row: sa.Row, base_url: str, headers: dict[str, str]) -> Content | None:
    """How many reviews were published in the body account's scope since its last
    digest, counted now (none: not sent)."""
    found = body_notifications.digest_content(row.id, row.account_id)
    if found is None:
        return None
    return render(AccountMail.body_digest, link=base_url + BODY_REVIEWS_PATH,
                  locale=row.locale,
                  unsubscribe_link=_unsubscribe(row, AccountMail.body_digest, headers),
                  days=current_app.config["BODY_DIGEST_DAYS"], **found)


def _reply_decided(row: sa.Row, base_url: str, headers: dict[str, str]) -> Content | None:
    """The moderator's decision on the body's reply (still so when it leaves)."""
    found = body_notifications.reply_decision(row.id, row.account_id)
    if found is None:
        return None
    with force_locale(row.locale):
        reason = (str(body_notifications.REPLY_REJECTION_REASONS.get(found.reason, ""))
                  if found.reason else None)
    return render(AccountMail.reply_decided, link=base_url + BODY_REVIEWS_PATH,
                  locale=row.locale,
                  unsubscribe_link=_unsubscribe(row, AccountMail.reply_decided, headers),
                  published=found.published, reason=reason, title=found.title,
                  course=found.course, reply=found.reply)


def _unsubscribe(row: sa.Row, kind: AccountMail, headers: dict[str, str]) -> str:
    """The one-click link turning this kind of email off (RFC 8058), in the headers too."""
    link = body_notifications.unsubscribe_link(row.account_id,
                                               body_notifications.TOPIC_OF[kind])
    headers.update(body_notifications.unsubscribe_headers(link))
    return link


def _moderation_backlog(row: sa.Row, base_url: str) -> Content | None:
    """Counts of what waits too long in the moderator's scope, taken now: what was decided
    since the job queued the email is not told (nothing left: not sent)."""
    account = db.session.get(Account, row.account_id)
    if account is None or account.role != Role.moderator:
        return None
    waiting = statistics.overdue(account)
    if not any(item.count for item in waiting.values()):
        return None
    with force_locale(row.locale):
        items = [_backlog_line(item) for item in waiting.values() if item.count]
    return render(AccountMail.moderation_backlog, link=f"{base_url}/admin/moderation",
                  locale=row.locale, items=items,
                  hours=current_app.config["MODERATION_DELAY_HOURS"])


def _alerts_digest(row: sa.Row, base_url: str) -> Content | None:
    """The alerts open in the account's scope when the email leaves (none: not sent)."""
    from avis.monitoring import alerts, alerts_text

    account = db.session.get(Account, row.account_id)
    if account is None or account.role != Role.region or not alerts.wants_digest(account):
        return None
    found = alerts.digest_of(account)
    if not found:
        return None
    shown = found[:DIGEST_LINES]
    names = alerts_text.body_names(shown)
    with force_locale(row.locale):
        lines = [alerts_text.describe(alert, names) for alert in shown]
    return render(AccountMail.alerts_digest, link=f"{base_url}/admin/alertes",
                  locale=row.locale, items=lines, total=len(found),
                  more=max(0, len(found) - DIGEST_LINES))


#: Alerts listed in the weekly email; the page has the rest.
DIGEST_LINES = 20


def _backlog_line(item: statistics.Backlog) -> str:
    assert item.age is not None  # some wait
    if item.subject == Subject.comment:
        return ngettext("%(num)s comment, the oldest answered %(age)s ago",
                        "%(num)s comments, the oldest answered %(age)s ago", item.count,
                        age=statistics.describe_wait(item.age, in_days=True))
    age = statistics.describe_wait(item.age)
    if item.subject == Subject.reply:
        return ngettext("%(num)s reply of a training body, waiting for %(age)s",
                        "%(num)s replies of training bodies, the oldest waiting for %(age)s",
                        item.count, age=age)
    return ngettext("%(num)s report on a review, waiting for %(age)s",
                    "%(num)s reports on reviews, the oldest waiting for %(age)s",
                    item.count, age=age)


def _batch(row: sa.Row, kind: AccountMail, content: Content,
           headers: dict[str, str]) -> Batch:
    recipient = Recipient(message_id=row.id, invitation_id=None, email=row.email,
                          name=single_line(row.name) if row.name else None,
                          subject=content.subject, substitutions={}, headers=headers)
    return Batch(content=content, recipients=[recipient], sender=current_app.config["MAIL_FROM"],
                 sender_name="avis", category=f"account_{kind}")


def render(kind: AccountMail, *, link: str, locale: str = "fr", **values: object) -> Content:
    """The email with its link written in (one recipient: no substitution tags)."""
    context = {"kind": str(kind), "link": link,
               "activation_days": operations.TOKEN_LIFETIMES[TokenPurpose.activation].days,
               "reset_minutes": int(operations.TOKEN_LIFETIMES[TokenPurpose.reset]
                                    .total_seconds() // 60),
               "login_url": f"{current_app.config['BASE_URL']}/login", **values}
    # The link's emails share one template; the others have their own.
    name = "message" if kind in PURPOSE else str(kind)
    with force_locale(locale):
        subject = _subject(kind, context)
        text = render_template(f"mail/account/{name}.txt", **context)
        source = render_template(f"mail/account/{name}.mjml.html", **context)
    html = mjml.mjml2html(source, disable_comments=True, fonts={})
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return Content(subject=single_line(subject),
                   text=re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n", html=html)


def _subject(kind: AccountMail, context: dict[str, object]) -> str:
    if kind == AccountMail.body_digest:
        reviews = context["reviews"]
        assert isinstance(reviews, int)
        return ngettext("avis: %(num)s new review of your training body",
                        "avis: %(num)s new reviews of your training body", reviews)
    if kind == AccountMail.reply_decided:
        return (gettext("Your reply to a review is published") if context["published"]
                else gettext("Your reply to a review is not shown"))
    if kind == AccountMail.report_decided:
        return gettext("Your report on a review: the moderator’s decision")
    if kind == AccountMail.alerts_digest:
        total = context["total"]
        assert isinstance(total, int)
        return ngettext("avis: %(num)s alert open in your région",
                        "avis: %(num)s alerts open in your région", total)
    if kind == AccountMail.moderation_backlog:
        hours = context["hours"]
        assert isinstance(hours, int)
        return ngettext("Moderation: items have waited more than %(num)s hour",
                        "Moderation: items have waited more than %(num)s hours", hours)
    if kind == AccountMail.reset:
        return gettext("Choose a new password for avis")
    if kind == AccountMail.activation_reminder:
        return gettext("Reminder: your avis account is waiting for you")
    return gettext("Your avis account: choose your password")
