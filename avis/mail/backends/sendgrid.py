"""SendGrid backend: one Mail Send request per batch.

The content (with ``[[tag]]`` placeholders) is shared by the request; each recipient is
one personalization carrying its subject, substitutions, headers and the opaque
invitation id as its only custom argument. SendGrid substitutes the tags itself.

There is no idempotency key in the Mail Send API: a request that times out may have been
accepted, so a timeout is reported as ``unknown``, never as ``retry``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import re
import urllib.error
from collections.abc import Mapping
from typing import Any

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from avis.mail.backends.base import Batch, Delivery, DeliveryState
from avis.mail.message import single_line

log = logging.getLogger(__name__)

# python_http_client logs the whole request body (addresses, survey links) at DEBUG:
# keep it quiet even when an operator turns DEBUG on for the application.
logging.getLogger("python_http_client").setLevel(logging.INFO)

DEFAULT_HOST = "https://api.sendgrid.com"
#: the Mail Send API takes at most 1000 personalizations (and 1000 recipients) a request
MAX_PERSONALIZATIONS = 1000
DEFAULT_TIMEOUT = 30.0
#: errors are stored with the message: short, and never personal data
MAX_ERROR_LENGTH = 500

_RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
# anything that looks like an address or a link (SendGrid's messages may echo them)
_PERSONAL = re.compile(r"\S*(?:@|://)\S*")


def _redact(text: str, limit: int) -> str:
    text = _PERSONAL.sub("[redacted]", single_line(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    return value if isinstance(value, str) else None


def rate_limit_reset(headers: Any) -> dt.datetime | None:
    """``X-RateLimit-Reset`` (epoch seconds) as an aware UTC instant; None when absent
    or unreadable."""
    value = _header(headers, "X-RateLimit-Reset")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        # garbage, NaN/inf, or out of the platform's range: back off instead
        return None


def error_summary(body: Any) -> str:
    """SendGrid's ``{"errors": [{"field", "message"}]}`` as short text, redacted."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        errors = json.loads(body).get("errors") if body else None
    except (ValueError, AttributeError):
        return ""
    if not isinstance(errors, list):
        return ""
    parts = []
    for error in errors[:5]:
        if not isinstance(error, dict):
            continue
        field, message = error.get("field"), error.get("message")
        text = _redact(message, 200) if isinstance(message, str) else ""
        if isinstance(field, str) and field:
            text = f"{_redact(field, 80)}: {text}" if text else _redact(field, 80)
        if text:
            parts.append(text)
    return "; ".join(parts)


class SendGridBackend:
    """Sends a batch as one SendGrid Mail Send request."""

    def __init__(self, api_key: str, host: str = DEFAULT_HOST, *,
                 batch_size: int = MAX_PERSONALIZATIONS,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if not api_key:
            raise ValueError("SENDGRID_API_KEY is not set")
        if int(batch_size) < 1:
            raise ValueError("SEND_BATCH_SIZE must be at least 1")
        self.api_key = api_key
        self.host = host.rstrip("/")
        #: largest batch taken by ``send``: ``SEND_BATCH_SIZE``, at most 1000
        self.max_batch_size = min(int(batch_size), MAX_PERSONALIZATIONS)
        #: seconds to wait for SendGrid (connect, and each read); the library has none
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SendGridBackend:
        return cls(
            config.get("SENDGRID_API_KEY") or "",
            config.get("SENDGRID_HOST") or DEFAULT_HOST,
            batch_size=int(config.get("SEND_BATCH_SIZE") or MAX_PERSONALIZATIONS),
        )

    def client(self) -> SendGridAPIClient:
        """A library client with our timeout. One per request: cheap, and no state is
        shared between threads sending at the same time."""
        client = SendGridAPIClient(self.api_key, host=self.host)
        client.client.timeout = self.timeout
        return client

    def request_body(self, batch: Batch) -> dict[str, Any]:
        """The Mail Send JSON for the batch, personalizations in the recipients' order.

        A plain dict, not the library's ``Mail`` helpers: building 1000 ``Personalization``
        objects costs far more than the request itself.
        """
        if len(batch.recipients) > self.max_batch_size:
            raise ValueError(f"batch of {len(batch.recipients)} messages, "
                             f"over the maximum of {self.max_batch_size}")
        seen: set[str] = set()
        personalizations = []
        for recipient in batch.recipients:
            key = recipient.email.strip().lower()
            if key in seen:
                # SendGrid refuses the whole request (400) for one repeated address
                raise ValueError(f"message {recipient.message_id}: address already in the batch")
            seen.add(key)
            to: dict[str, str] = {"email": recipient.email}
            name = recipient_name(recipient.name)
            if name:
                to["name"] = name
            personalization: dict[str, Any] = {
                "to": [to],
                "subject": recipient.subject,
            }
            if recipient.invitation_id is not None:
                # the opaque id only: SendGrid keeps custom args in its events for good
                personalization["custom_args"] = {"invitation": str(recipient.invitation_id)}
            if recipient.substitutions:
                personalization["substitutions"] = dict(recipient.substitutions)
            if recipient.headers:
                personalization["headers"] = dict(recipient.headers)
            personalizations.append(personalization)
        body: dict[str, Any] = {
            "from": {"email": batch.sender, "name": single_line(batch.sender_name)},
            "personalizations": personalizations,
            # SendGrid requires text/plain before text/html
            "content": [
                {"type": "text/plain", "value": batch.content.text},
                {"type": "text/html", "value": batch.content.html},
            ],
            # click tracking would rewrite the survey links and put the tokens in events
            "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
        }
        if batch.category:
            body["categories"] = [batch.category]
        return body

    def send(self, batch: Batch) -> list[Delivery]:
        message_ids = [recipient.message_id for recipient in batch.recipients]
        if not message_ids:
            return []
        body = self.request_body(batch)

        def outcome(state: DeliveryState, error: str | None = None, **extra: Any) -> list[Delivery]:
            log.info("SendGrid batch of %d: %s%s", len(message_ids), state.value,
                     f" ({error})" if error else "")
            return [Delivery(message_ids=message_ids, state=state,
                             error=_short(error) if error else None, **extra)]

        try:
            response = self.client().send(body)
        except http_errors.HTTPError as error:
            return outcome(*self._http_error(error), retry_at=(
                rate_limit_reset(error.headers) if error.status_code == 429 else None))
        except urllib.error.URLError as error:
            # raised while connecting or sending the request
            if isinstance(error.reason, TimeoutError):
                return outcome(DeliveryState.unknown, "timeout: outcome unknown")
            return outcome(DeliveryState.retry, f"connection error: {_reason(error.reason)}")
        except TimeoutError:
            # the request went out and no answer came in time: SendGrid may have taken it
            return outcome(DeliveryState.unknown, "timeout: outcome unknown")
        except (OSError, http.client.HTTPException) as error:
            # refused, reset, or closed without an answer (RemoteDisconnected, IncompleteRead)
            return outcome(DeliveryState.retry, f"connection error: {_reason(error)}")

        status = response.status_code
        if 200 <= status < 300:
            return outcome(DeliveryState.sent,
                           provider_message_id=_header(response.headers, "X-Message-ID"))
        # urllib raises for every status >= 400; anything else here is unexpected
        return outcome(DeliveryState.retry, f"HTTP {status}: unexpected answer")

    @staticmethod
    def _http_error(error: http_errors.HTTPError) -> tuple[DeliveryState, str]:
        status = error.status_code
        if status == 429:
            return DeliveryState.retry, "HTTP 429: rate limited"
        if status in (401, 403):
            # a configuration problem, not the messages': keep them for when it is fixed
            return DeliveryState.retry, f"HTTP {status}: SendGrid refused the API key"
        if status in _RETRY_STATUSES or status >= 500:
            return DeliveryState.retry, f"HTTP {status}"
        details = error_summary(getattr(error, "body", None))
        return DeliveryState.failed, f"HTTP {status}: {details}" if details else f"HTTP {status}"


def recipient_name(name: str | None) -> str | None:
    """A display name SendGrid accepts: it refuses ``,`` and ``;`` in ``to.name`` (400
    for the whole request: one trainee named « Dupont, Marie » would sink a batch of
    1,000), so they become spaces."""
    if not name:
        return None
    return " ".join(re.sub(r"[,;]", " ", name).split()) or None


def _reason(reason: object) -> str:
    if isinstance(reason, BaseException):
        text = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    else:
        text = str(reason)
    return _redact(text, 200)
