"""What every backend receives and answers.

A ``Batch`` is shaped like one SendGrid Mail Send request: one content (subject, text
and HTML holding substitution tags) shared by every recipient, and per recipient the
values of those tags and its own headers. SendGrid substitutes the tags itself; the
SMTP and file backends substitute them locally with ``avis.mail.message.personalize``,
so all backends send the same email.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Content:
    """The parts of an email shared by a batch; ``[[tag]]`` marks per-recipient values."""

    #: subject line, may hold text tags
    subject: str
    #: text/plain part
    text: str
    #: text/html part (inlined CSS)
    html: str


@dataclass(frozen=True)
class Recipient:
    #: outbox message id: what the dispatcher records the outcome against
    message_id: int
    #: opaque invitation id, given to the provider as the only custom argument; None for
    #: an email that is not about an invitation (account mail)
    invitation_id: int | None
    #: the address; never logged
    email: str
    #: display name, CR/LF already removed
    name: str | None
    #: subject with this recipient's values, CR/LF already removed
    subject: str
    #: tag → value, for the text tags and the (already escaped) HTML tags
    substitutions: dict[str, str]
    #: per-recipient headers (List-Unsubscribe, List-Unsubscribe-Post)
    headers: dict[str, str]


@dataclass(frozen=True)
class Batch:
    """Emails sharing one content. Addresses are unique within a batch (SendGrid
    refuses a request naming the same address twice)."""

    content: Content
    recipients: list[Recipient]
    #: sender address (``AVIS_MAIL_FROM``)
    sender: str
    #: sender display name
    sender_name: str = "avis"
    #: provider category, for the provider's statistics ("invitation", "reminder")
    category: str | None = None


class DeliveryState(enum.StrEnum):
    #: the provider took the message
    sent = "sent"
    #: a temporary failure: try again (after ``retry_at`` if given, else back off)
    retry = "retry"
    #: no answer in time: the provider may have taken it
    unknown = "unknown"
    #: refused for good (malformed request, address refused by the server)
    failed = "failed"


@dataclass(frozen=True)
class Delivery:
    """The outcome for some messages of a batch."""

    message_ids: list[int]
    state: DeliveryState
    #: provider's id of the request or message (SendGrid X-Message-ID, SMTP queue id)
    provider_message_id: str | None = None
    #: what went wrong, short, without personal data ("HTTP 503", "timeout")
    error: str | None = None
    #: for ``retry``: not before this instant (SendGrid's X-RateLimit-Reset)
    retry_at: dt.datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class MailBackend(Protocol):
    #: largest batch the backend takes in one call
    max_batch_size: int

    def send(self, batch: Batch) -> list[Delivery]:
        """Send the batch; every message id of the batch appears in exactly one delivery.

        Never raises for a delivery problem: failures are outcomes.
        """
        ...
