"""What a training body's accounts are emailed, and how each turns it off.

- **"N new reviews"** (``body_digest``): the daily job ``email_digests`` queues it for an
  active body account when ``BODY_DIGEST_DAYS`` days (Paris days) have passed since the
  period of its last digest ended (or since it was activated) and at least one review
  was published in its scope since then. A review is published when it counts and can be
  read: an answer without a public comment (its marks) as soon as it is given, a comment
  when a moderator publishes it. What it says is counted when it leaves
  (``digest_content``): nothing new then, nothing sent; a digest that fails or is
  cancelled moves nothing, the next one starts where the last *sent* one ended.
- **A decision on a reply** (``reply_decided``): queued by ``tell_reply_decision`` in the
  moderator's transaction, to the account that wrote the reply; sent only if the reply is
  still so when it leaves (an undo in the meantime: not sent).
- **A decision on a report** (``report_decided``, queued by ``moderation.reports``): only
  the preference is checked here, when it leaves.

Each topic can be turned off on ``/admin/mon-organisme/notifications`` (audited), or
without signing in by the one-click link every such email carries (RFC 8058): a random
token per email, only its hash stored, which turns that topic off for that account and
does nothing else. No email goes to a disabled or invited account, nor to a suppressed
address (``accounts.mail`` checks both when it sends).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from avis import clock
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountMessageStatus,
    AccountStatus,
    Role,
)
from avis.accounts.scope import Scope
from avis.accounts.sessions import digest
from avis.audit.models import AuditEvent
from avis.audit.operations import record
from avis.bodies.models.notifications import (
    DigestMail,
    NotificationOptOut,
    ReplyDecisionMail,
    Topic,
    UnsubscribeToken,
)
from avis.catalog.models.courses import Course
from avis.db import db
from avis.mail.suppressions import is_suppressed_clause
from avis.surveys.models.answers import Answer, CommentStatus, RejectionReason, Reply

#: The topic each body email belongs to: what its unsubscribe link turns off.
TOPIC_OF = {AccountMail.body_digest: Topic.digest,
            AccountMail.reply_decided: Topic.reply_decisions,
            AccountMail.report_decided: Topic.report_decisions}
#: How long an unsubscribe link works: long after the email is read, mail clients and
#: people still use it.
TOKEN_LIFETIME = dt.timedelta(days=365)
#: The path of the unsubscribe page (``bodies.notifications_views.unsubscribe``): also
#: covered by the access log's token redaction (``avis.logs``: ``/unsubscribe/``).
UNSUBSCRIBE_PATH = "/notifications/unsubscribe/"


# --- preferences ---------------------------------------------------------------------

def preferences(account: Account) -> dict[Topic, bool]:
    """Each topic: whether the account wants its emails (all of them unless turned off)."""
    off = set(db.session.scalars(sa.select(NotificationOptOut.topic)
                                 .where(NotificationOptOut.account_id == account.id)))
    return {topic: topic not in off for topic in Topic}


def wants(account_id: int, topic: Topic) -> bool:
    return db.session.get(NotificationOptOut, (account_id, topic)) is None


def set_preferences(account: Account, wanted: dict[Topic, bool], *,
                    via: str = "page") -> dict[str, list[bool]]:
    """Turn topics on or off for ``account`` (the caller commits); what changed, also in
    the journal (one event), by the account itself (signed in, or through its link)."""
    before = preferences(account)
    changes: dict[str, list[bool]] = {}
    for topic, on in wanted.items():
        if before[topic] == on:
            continue
        if on:
            db.session.execute(sa.delete(NotificationOptOut).where(
                NotificationOptOut.account_id == account.id, NotificationOptOut.topic == topic))
        else:
            db.session.add(NotificationOptOut(account_id=account.id, topic=topic,
                                              created_dt=clock.now()))
        changes[str(topic)] = [before[topic], on]
    if changes:
        db.session.flush()
        record("account.notifications_changed", object_type="account", object_id=account.id,
               changes={**changes, "via": via}, actor=account)
    return changes


# --- the one-click unsubscribe link ---------------------------------------------------------

def unsubscribe_link(account_id: int, topic: Topic) -> str:
    """A new link turning ``topic`` off for the account (its token's hash is added to the
    session: the caller commits before the email leaves)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(UnsubscribeToken(digest=digest(token), account_id=account_id, topic=topic,
                                    created_dt=now, expires_dt=now + TOKEN_LIFETIME))
    return f"{current_app.config['BASE_URL']}{UNSUBSCRIBE_PATH}{token}"


def unsubscribe_headers(link: str) -> dict[str, str]:
    """RFC 8058: mailbox providers show their own button, which posts to ``link``."""
    return {"List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True)
class Unsubscription:
    """What an unsubscribe link opens: one topic of one account."""

    account: Account
    topic: Topic

    @property
    def is_off(self) -> bool:
        return not wants(self.account.id, self.topic)


def find_unsubscription(token: str) -> Unsubscription | None:
    """The topic and account of an unexpired link; None for anything else."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        sa.select(UnsubscribeToken.topic, Account)
        .join(Account, Account.id == UnsubscribeToken.account_id)
        .where(UnsubscribeToken.digest == digest(token),
               UnsubscribeToken.expires_dt > clock.now())).first()
    return Unsubscription(row[1], Topic(row[0])) if row else None


def unsubscribe(found: Unsubscription, *, via: str) -> bool:
    """Turn the link's topic off (audited); False when it already was."""
    return bool(set_preferences(found.account, {found.topic: False}, via=via))


# --- reply decisions ----------------------------------------------------------------------

#: Why a reply is not published, as the body reads it in the email.
REPLY_REJECTION_REASONS: dict[str, LazyString] = {
    RejectionReason.insult: _l("it contains insults or abusive words"),
    RejectionReason.personal_data: _l("it contains personal data (a name, a phone number, "
                                      "an address…)"),
    RejectionReason.off_topic: _l("it does not answer the review"),
    RejectionReason.serious_alert: _l("it cannot be published as it is"),
}

def tell_reply_decision(reply_id: int) -> None:
    """Queue the email telling the reply's author the moderator's decision (published, or
    rejected or withdrawn with the reason), in the moderator's transaction. Call it after
    every decision (an undo included: it cancels the email of the decision undone if it
    has not left). Nothing is queued for a reply waiting again, nor for an author whose
    account no longer works."""
    # An earlier decision not sent yet (then undone, or changed) is no longer news.
    earlier = sa.select(ReplyDecisionMail.message_id).where(ReplyDecisionMail.reply_id == reply_id)
    db.session.execute(
        sa.update(AccountMessage)
        .where(AccountMessage.id.in_(earlier),
               AccountMessage.status == AccountMessageStatus.queued)
        .values(status=AccountMessageStatus.cancelled, last_error="superseded")
        .execution_options(synchronize_session=False))
    found = db.session.execute(
        sa.select(Reply.status, Account.id, Account.status, Account.role)
        .join(Account, Account.id == Reply.author_id).where(Reply.id == reply_id)).first()
    if found is None:
        return
    status, account_id, account_status, role = found
    if status not in (CommentStatus.published, CommentStatus.rejected) \
            or account_status != AccountStatus.active or role != Role.organisation:
        return
    message = AccountMessage(account_id=account_id, kind=AccountMail.reply_decided,
                             created_dt=clock.now(), next_attempt_dt=clock.now())
    db.session.add(message)
    db.session.flush()
    db.session.add(ReplyDecisionMail(message_id=message.id, reply_id=reply_id,
                                     status=CommentStatus(status)))


@dataclass(frozen=True)
class ReplyDecision:
    """What a reply-decision email says."""

    published: bool
    reason: str | None
    title: str | None
    course: str
    reply: str


def reply_decision(message_id: int, account_id: int) -> ReplyDecision | None:
    """The decision the email tells, if the reply is still so and the account still wants
    such emails; None otherwise (not sent)."""
    if not wants(account_id, Topic.reply_decisions):
        return None
    found = db.session.execute(
        sa.select(ReplyDecisionMail.status.label("told"), Reply.status, Reply.text,
                  Reply.rejection_reason, Answer.comment_title, Course.title.label("course"))
        .join(Reply, Reply.id == ReplyDecisionMail.reply_id)
        .join(Answer, Answer.id == Reply.answer_id).join(Course, Course.id == Answer.course_id)
        .where(ReplyDecisionMail.message_id == message_id)).first()
    if found is None or found.told != found.status:
        return None
    published = found.status == CommentStatus.published
    return ReplyDecision(published=published,
                         reason=None if published else found.rejection_reason,
                         title=found.comment_title, course=found.course, reply=found.text)


def wants_report_decisions(account_id: int) -> bool:
    return wants(account_id, Topic.report_decisions)


# --- the "new reviews" digest -------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Where the next digest's count starts."""

    #: comments published after this count
    since_dt: dt.datetime
    #: answers without a comment above this id count; None for the first digest, whose
    #: period starts at the account's activation: answers given from that day count
    since_answer_id: int | None


def period_start(account: Account) -> Period:
    """The end of the last digest sent to the account; else its activation."""
    last = db.session.execute(
        sa.select(DigestMail.until_dt, DigestMail.until_answer_id)
        .join(AccountMessage, AccountMessage.id == DigestMail.message_id)
        .where(DigestMail.account_id == account.id,
               AccountMessage.status == AccountMessageStatus.sent,
               DigestMail.until_dt.is_not(None))
        .order_by(DigestMail.until_dt.desc()).limit(1)).first()
    if last is not None:
        return Period(last.until_dt, last.until_answer_id)
    return Period(activated_dt(account), None)


def activated_dt(account: Account) -> dt.datetime:
    """When the owner chose a first password (the journal says); an account created
    with its password (command line) was active from its creation."""
    found = db.session.scalar(
        sa.select(sa.func.min(AuditEvent.occurred_dt))
        .where(AuditEvent.object_type == "account", AuditEvent.object_id == str(account.id),
               AuditEvent.action == "account.activated"))
    return found or account.created_dt


def new_reviews(account: Account, since: Period, *, until_dt: dt.datetime | None = None,
                until_answer_id: int | None = None) -> int:
    """Reviews published in the account's scope after ``since`` (up to the bounds, when
    given): answers without a public comment by id (they carry only their day), public
    comments by the moment a moderator published them. Excluded answers never count."""
    from avis.public.reviews import shown_statuses

    # Comments shown before moderation (``PUBLISH_COMMENTS_UNMODERATED``) are published
    # when given, like marks.
    given = sa.or_(Answer.comment_status.is_(None),
                   Answer.comment_status.in_([s for s in shown_statuses()
                                              if s != CommentStatus.published]))
    if since.since_answer_id is None:
        given = sa.and_(given, Answer.answered_on >= since.since_dt.astimezone(clock.PARIS)
                        .date())
    else:
        given = sa.and_(given, Answer.id > since.since_answer_id)
    if until_answer_id is not None:
        given = sa.and_(given, Answer.id <= until_answer_id)
    published = sa.and_(Answer.comment_status == CommentStatus.published,
                        Answer.moderated_dt > since.since_dt)
    if until_dt is not None:
        published = sa.and_(published, Answer.moderated_dt <= until_dt)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Answer)
        .where(Scope.of(account).where(Answer), Answer.excluded_reason.is_(None),
               sa.or_(given, published))) or 0


def _due(account: Account, days: int) -> Period | None:
    """The period to count, if the last digest (or the activation) is ``days`` days old."""
    since = period_start(account)
    if clock.today() < since.since_dt.astimezone(clock.PARIS).date() + dt.timedelta(days=days):
        return None
    return since


def email_digests() -> dict[str, int]:
    """The daily job: queue the "new reviews" email for each body account that is due,
    has something new, and wants it. Never to a disabled or invited account, nor to a
    suppressed address; never a second one while one waits to leave."""
    days = current_app.config["BODY_DIGEST_DAYS"]
    waiting = sa.exists().where(
        AccountMessage.account_id == Account.id, AccountMessage.kind == AccountMail.body_digest,
        AccountMessage.status.in_([AccountMessageStatus.queued, AccountMessageStatus.sending]))
    opted_out = sa.exists().where(NotificationOptOut.account_id == Account.id,
                                  NotificationOptOut.topic == Topic.digest)
    accounts = db.session.scalars(
        sa.select(Account).where(Account.role == Role.organisation,
                                 Account.status == AccountStatus.active,
                                 ~is_suppressed_clause(Account.email), ~waiting, ~opted_out)
        .order_by(Account.id)).all()
    counts = {"queued": 0}
    for account in accounts:
        since = _due(account, days)
        if since is None or not new_reviews(account, since):
            continue
        message = AccountMessage(account_id=account.id, kind=AccountMail.body_digest,
                                 created_dt=clock.now(), next_attempt_dt=clock.now())
        db.session.add(message)
        db.session.flush()
        db.session.add(DigestMail(message_id=message.id, account_id=account.id))
        counts["queued"] += 1
    # Links nobody can use any more.
    counts["tokens_removed"] = db.session.execute(
        sa.delete(UnsubscribeToken).where(UnsubscribeToken.expires_dt <= clock.now())).rowcount
    db.session.commit()
    return counts


def digest_content(message_id: int, account_id: int) -> dict[str, Any] | None:
    """Count the new reviews as the email leaves and close its period there; None when
    there is none (or the account no longer wants it): not sent."""
    account = db.session.get(Account, account_id)
    mail = db.session.get(DigestMail, message_id)
    if account is None or mail is None or account.role != Role.organisation \
            or not wants(account_id, Topic.digest):
        return None
    since = period_start(account)
    until_dt = clock.now()
    until_answer_id = db.session.scalar(sa.select(sa.func.max(Answer.id))) or 0
    count = new_reviews(account, since, until_dt=until_dt, until_answer_id=until_answer_id)
    if not count:
        return None
    mail.until_dt, mail.until_answer_id, mail.reviews = until_dt, until_answer_id, count
    return {"reviews": count, "since": since.since_dt.astimezone(clock.PARIS).date()}
