"""Outbox dispatch: claim, mint tokens, send in provider-sized batches, record."""

from __future__ import annotations

import concurrent.futures
import contextvars
import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import UTCDateTime, among, db
from avis.mail import outbox, render
from avis.mail.backends import Batch, MailBackend, Recipient, backend_for
from avis.mail.backends.base import Content
from avis.mail.message import single_line
from avis.mail.models import OutboxMessage
from avis.mail.suppressions import is_suppressed_clause
from avis.surveys import tokens
from avis.surveys.models.invitations import OPEN_STATUSES, Invitation, InvitationToken


@dataclass(slots=True)
class _Claimed:
    message_id: int
    invitation_id: int
    sequence: int
    template: str
    attempts: int
    email: str
    first_name: str | None
    last_name: str | None
    course_title: str
    body_name: str
    start_date: dt.date
    end_date: dt.date
    city: str


#: Senders working side by side in one dispatch on PostgreSQL: while one waits for the
#: database or the provider, the other works. SQLite has one writer: one sender.
WORKERS = 2


def dispatch(backend: MailBackend | None = None, *, max_batches: int | None = None,
             deadline: dt.datetime | None = None, workers: int | None = None) -> dict[str, int]:
    """Send due messages until none is left (or ``max_batches`` claims, or the wall-clock
    ``deadline``). Returns counts by outcome."""
    backend = backend or backend_for(current_app)
    if db.session.get_bind().dialect.name != "postgresql":
        workers = 1
    workers = workers or WORKERS
    totals: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    claimed_batches = 0

    def work() -> None:
        nonlocal claimed_batches
        while True:
            with lock:
                if max_batches is not None and claimed_batches >= max_batches:
                    return
                claimed_batches += 1
            if deadline is not None and dt.datetime.now(dt.UTC) >= deadline:
                return
            counts = dispatch_batch(backend)
            if not counts:
                return
            with lock:
                for key, value in counts.items():
                    totals[key] += value

    if workers == 1:
        work()
        return dict(totals)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def in_own_app_context() -> None:
        with app.app_context():
            work()

    def in_thread(context: contextvars.Context) -> None:
        # The caller's context variables come along (a frozen clock); inside them, each
        # worker pushes its own app context, hence has its own database session.
        context.run(in_own_app_context)

    with concurrent.futures.ThreadPoolExecutor(workers, "avis-dispatch") as pool:
        futures = [pool.submit(in_thread, contextvars.copy_context()) for _ in range(workers)]
        for future in futures:
            future.result()
    return dict(totals)


def dispatch_batch(backend: MailBackend) -> dict[str, int]:
    """Claim one batch and send it; empty dict when nothing was due."""
    claimed, unsendable = _claim(backend.max_batch_size)
    if not claimed and not unsendable:
        db.session.commit()
        return {}
    counts: dict[str, int] = {}
    if unsendable:
        outbox.cancel(unsendable, "invitation closed or address suppressed")
        counts["cancelled"] = len(unsendable)
    links = _mint_tokens(claimed)
    # The claim and the tokens are committed before anything leaves: no lock is held
    # during the send, and every link in the emails already works.
    db.session.commit()
    attempts = {c.message_id: c.attempts for c in claimed}
    first_emails = {c.message_id: c.invitation_id for c in claimed if c.sequence == 0}
    deliveries = []
    for batch in _batches(claimed, links, backend.max_batch_size):
        deliveries.extend(backend.send(batch))
    for key, value in outbox.record(deliveries, attempts, first_emails).items():
        counts[key] = counts.get(key, 0) + value
    return counts


def _claim(limit: int) -> tuple[list[_Claimed], list[int]]:
    """Claim up to ``limit`` due messages and read what each needs; also returns the
    claimed messages no longer to be sent. The caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the claimed rows come back joined to what their emails need,
        # rather than their ids going out again to be looked up a second time.
        messages = outbox.claim_statement(limit).cte("claimed")
        rows = db.session.execute(_recipients(messages, messages.c)).all()
        return _sendable(rows, [row.id for row in rows])
    message_ids = outbox.claim(limit)
    if not message_ids:
        return [], []
    statement = _recipients(OutboxMessage, OutboxMessage).where(
        among(OutboxMessage.id, message_ids))
    return _sendable(db.session.execute(statement).all(), message_ids)


def _recipients(messages: Any, m: Any) -> sa.Select[Any]:
    """The messages of ``messages`` (table or claim), each with its recipient and session;
    outer joins, so that a message whose invitation or trainee is gone still has a row."""
    return (
        sa.select(
            m.id, m.invitation_id, m.sequence, m.template, m.attempts,
            Invitation.status, Invitation.expires_dt,
            Trainee.email, Trainee.first_name, Trainee.last_name,
            Course.title, TrainingBody.name, Session.start_date, Session.end_date, Session.city,
            is_suppressed_clause(Trainee.email).label("suppressed"),
        )
        .select_from(messages)
        .outerjoin(Invitation, Invitation.id == m.invitation_id)
        .outerjoin(Enrolment, Enrolment.id == Invitation.enrolment_id)
        .outerjoin(Trainee, Trainee.id == Enrolment.trainee_id)
        .outerjoin(Session, Session.id == Enrolment.session_id)
        .outerjoin(Action, Action.id == Session.action_id)
        .outerjoin(Course, Course.id == Action.course_id)
        .outerjoin(TrainingBody, TrainingBody.id == Action.training_body_id)
    )


def _sendable(rows: Sequence[sa.Row[Any]], message_ids: list[int]
              ) -> tuple[list[_Claimed], list[int]]:
    """The messages to send, in id order; and those no longer to be sent."""
    now = clock.now()
    claimed, unsendable = [], []
    for row in sorted(rows, key=lambda row: row.id):
        # An erased trainee has no address: nothing is sent, whatever was queued.
        if (row.email is None or row.suppressed or row.status not in OPEN_STATUSES
                or row.title is None or row.expires_dt <= now):
            unsendable.append(row.id)
            continue
        claimed.append(_Claimed(
            message_id=row.id, invitation_id=row.invitation_id, sequence=row.sequence,
            template=row.template, attempts=row.attempts, email=row.email,
            first_name=row.first_name, last_name=row.last_name, course_title=row.title,
            body_name=row.name, start_date=row.start_date, end_date=row.end_date,
            city=row.city))
    # A message whose invitation was erased between claim and load has no row: drop it.
    found = {row.id for row in rows}
    unsendable.extend(i for i in message_ids if i not in found)
    return claimed, unsendable


def _mint_tokens(claimed: list[_Claimed]) -> dict[int, str]:
    """A fresh token per email; only its hash is written."""
    now = clock.now()
    links: dict[int, str] = {}
    invitation_ids: list[int] = []
    digests: list[bytes] = []
    for message in claimed:
        token = tokens.mint()
        links[message.message_id] = token
        invitation_ids.append(message.invitation_id)
        digests.append(tokens.digest(token))
    if not claimed:
        return links
    table = InvitationToken.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement with two array parameters: row-by-row parameters cost more
        # than the insert itself.
        # The digests go as hex text: SQLAlchemy wraps each bytes element of an array
        # in a Python call of its own, text elements go as they are.
        hexes = [d.hex() for d in digests]
        rows = sa.select(
            sa.func.unnest(sa.bindparam("ids", invitation_ids, type_=ARRAY(sa.Integer))),
            sa.func.decode(
                sa.func.unnest(sa.bindparam("digests", hexes, type_=ARRAY(sa.Text))), "hex"),
            sa.bindparam("now", now, type_=UTCDateTime()))
        db.session.execute(table.insert().from_select(
            ["invitation_id", "digest", "created_dt"], rows))
    else:
        db.session.execute(table.insert(), [
            {"invitation_id": i, "digest": d, "created_dt": now}
            for i, d in zip(invitation_ids, digests, strict=True)])
    return links


_TAG = re.compile(r"\[\[\w+\]\]")


def _subject_tags(subject: str) -> list[str] | None:
    """The tags a subject holds, whose values alone make it; None when a value could
    also bring a tag of its own in (brackets outside the tags), so that the subject of
    each recipient must be made from all its values."""
    around = _TAG.sub("", subject)
    if "[" in around or "]" in around:
        return None
    return _TAG.findall(subject)


def _batches(claimed: list[_Claimed], links: dict[int, str], size: int) -> list[Batch]:
    """Group by template, and split so that no address appears twice in one batch."""
    config = current_app.config
    base_url = config["BASE_URL"].rstrip("/")
    locale = config.get("BABEL_DEFAULT_LOCALE", "fr")
    # Looked up once per template: this loop runs once per email.
    contents: dict[str, Content] = {}
    personaliser = render.Personaliser(locale)
    # A subject holds a few text tags (the course's): each distinct subject built once.
    subject_tags: dict[str, list[str] | None] = {}
    subjects: dict[tuple[str, ...], str] = {}
    groups: dict[str, list[list[Recipient]]] = defaultdict(list)
    addresses: dict[str, list[set[str]]] = defaultdict(list)
    for message in claimed:
        content = contents.get(message.template)
        if content is None:
            content = contents[message.template] = render.content(message.template, locale)
            subject_tags[message.template] = _subject_tags(content.subject)
        token = links[message.message_id]
        values = render.MailValues(
            first_name=message.first_name, last_name=message.last_name,
            course_title=message.course_title, body_name=message.body_name,
            start_date=message.start_date, end_date=message.end_date, city=message.city,
            link=f"{base_url}/q/{token}", unsubscribe_link=f"{base_url}/unsubscribe/{token}")
        substitutions = personaliser.substitutions(values)
        tags = subject_tags[message.template]
        key = None
        if tags is not None:
            key = (message.template, *(substitutions[name] for name in tags))
            if any("[" in value or "]" in value for value in key):
                key = None
        subject = subjects.get(key) if key is not None else None
        if subject is None:
            subject = content.subject
            for tag, value in substitutions.items():
                subject = subject.replace(tag, value)
            subject = single_line(subject)
            if key is not None:
                subjects[key] = subject
        recipient = Recipient(
            message_id=message.message_id, invitation_id=message.invitation_id,
            email=message.email, name=render.display_name(values), subject=subject,
            substitutions=substitutions, headers=render.recipient_headers(values))
        key = message.email.lower()
        slots = groups[message.template]
        seen = addresses[message.template]
        for index, recipients in enumerate(slots):
            if key not in seen[index] and len(recipients) < size:
                recipients.append(recipient)
                seen[index].add(key)
                break
        else:
            slots.append([recipient])
            seen.append({key})
    sender = config["MAIL_FROM"]
    return [
        Batch(content=contents[template], recipients=recipients, sender=sender,
              sender_name="avis", category=template)
        for template, slots in groups.items() for recipients in slots
    ]
