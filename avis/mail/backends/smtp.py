"""SMTP backend: one connection per batch, one message per recipient.

Tags are substituted locally (``build_email``), so SMTP recipients get the same email as
SendGrid's. Each message has its own outcome: a refused address fails alone, while a
lost connection leaves the rest of the batch to be retried.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Mapping
from typing import Any

from avis.mail.backends.base import Batch, Delivery, DeliveryState, Recipient
from avis.mail.message import build_email

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
DEFAULT_BATCH_SIZE = 1000
MAX_ERROR_LENGTH = 500

# SMTP replies often quote the address ("<bob@example.org>: Recipient address rejected")
_PERSONAL = re.compile(r"\S*(?:@|://)\S*")


def _reply_text(code: int, message: bytes | str | None) -> str:
    """An SMTP reply as a short error without personal data."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = " ".join((message or "").split())
    text = _PERSONAL.sub("[redacted]", text)
    text = f"SMTP {code} {text}".strip()
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def _state_for(code: int) -> DeliveryState:
    # 5xx: refused for good; 4xx (and anything odd): temporary
    return DeliveryState.failed if 500 <= code < 600 else DeliveryState.retry


class SMTPBackend:
    """Sends each message of a batch over one SMTP connection."""

    def __init__(self, host: str = "localhost", port: int = 25, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, timeout: float = DEFAULT_TIMEOUT,
                 local_hostname: str | None = None) -> None:
        if int(batch_size) < 1:
            raise ValueError("SEND_BATCH_SIZE must be at least 1")
        self.host = host
        self.port = int(port)
        self.max_batch_size = int(batch_size)
        #: seconds for the connection and for each SMTP command
        self.timeout = timeout
        #: name given in EHLO (smtplib's default: this machine's FQDN)
        self.local_hostname = local_hostname

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SMTPBackend:
        return cls(
            config.get("SMTP_HOST") or "localhost",
            int(config.get("SMTP_PORT") or 25),
            batch_size=int(config.get("SEND_BATCH_SIZE") or DEFAULT_BATCH_SIZE),
        )

    def send(self, batch: Batch) -> list[Delivery]:
        if len(batch.recipients) > self.max_batch_size:
            raise ValueError(f"batch of {len(batch.recipients)} messages, "
                             f"over the maximum of {self.max_batch_size}")
        if not batch.recipients:
            return []
        deliveries: list[Delivery] = []

        def rest_retry(start: int, error: str) -> None:
            remaining = [r.message_id for r in batch.recipients[start:]]
            if remaining:
                deliveries.append(Delivery(remaining, DeliveryState.retry, error=error))

        try:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                                      local_hostname=self.local_hostname)
        except (OSError, smtplib.SMTPException) as error:
            # nothing was sent: refused, unreachable, timed out, or a greeting refused
            rest_retry(0, f"SMTP connection failed: {type(error).__name__}")
            log.info("SMTP batch of %d: connection failed (%s)", len(batch.recipients),
                     type(error).__name__)
            return deliveries

        usable = True
        try:
            for index, recipient in enumerate(batch.recipients):
                delivery = self._send_one(connection, batch, recipient)
                if delivery is None:
                    # the connection is gone: nothing further can be sent on it
                    usable = False
                    rest_retry(index, "SMTP server disconnected")
                    break
                deliveries.append(delivery)
                if delivery.state is DeliveryState.unknown:
                    usable = False
                    rest_retry(index + 1, "not tried: previous message timed out")
                    break
        finally:
            if usable:
                self._quit(connection)
            else:
                # a QUIT on a dead or silent connection would only wait for the timeout
                connection.close()
        log.info("SMTP batch of %d: %s", len(batch.recipients),
                 ", ".join(f"{d.state.value} {len(d.message_ids)}" for d in deliveries))
        return deliveries

    @staticmethod
    def _send_one(connection: smtplib.SMTP, batch: Batch,
                  recipient: Recipient) -> Delivery | None:
        """The outcome of one message; None when the connection is lost before it went."""
        message = build_email(batch, recipient)
        ids = [recipient.message_id]
        try:
            # explicit envelope: never derived from headers holding display names
            connection.send_message(message, from_addr=batch.sender, to_addrs=[recipient.email])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (550, b""))
            return Delivery(ids, _state_for(code), error=_reply_text(code, reply))
        except smtplib.SMTPServerDisconnected as error:
            # smtplib turns a socket timeout into a disconnection; the timeout stays as
            # the context. The server may have queued the message before going quiet.
            if isinstance(error.__context__, TimeoutError):
                return Delivery(ids, DeliveryState.unknown,
                                error="SMTP timeout: outcome unknown")
            return None
        except smtplib.SMTPResponseException as error:
            # sender refused, DATA refused...
            return Delivery(ids, _state_for(error.smtp_code),
                            error=_reply_text(error.smtp_code, error.smtp_error))
        except smtplib.SMTPNotSupportedError:
            # e.g. an internationalised address and a server without SMTPUTF8
            return Delivery(ids, DeliveryState.failed, error="SMTP: not supported by the server")
        except TimeoutError:
            # (in case smtplib lets one through unwrapped)
            return Delivery(ids, DeliveryState.unknown, error="SMTP timeout: outcome unknown")
        except OSError:
            # reset or broken pipe: treat like a disconnection
            return None
        except smtplib.SMTPException as error:
            return Delivery(ids, DeliveryState.retry, error=f"SMTP: {type(error).__name__}")
        return Delivery(ids, DeliveryState.sent, provider_message_id=message["Message-ID"])

    @staticmethod
    def _quit(connection: smtplib.SMTP) -> None:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            # already gone, or timed out: just drop the socket
            connection.close()
