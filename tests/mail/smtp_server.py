"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port).

It records every message it accepts, parsed with ``email.policy.default``, and can
refuse chosen addresses at RCPT (550 for good, 450 for now, 421 closing the connection)
or be slow to answer DATA.

    def test_x(smtp_server):
        backend = SMTPBackend(smtp_server.host, smtp_server.port)
        ...
        assert smtp_server.messages[0]["Subject"] == "..."

The fixture is named ``smtp_server``; import its function ``smtp_server_fixture`` into a
test module (``# noqa: F401``) or list ``"tests.mail.smtp_server"`` in ``pytest_plugins``.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

#: replies for refused recipients, by code
REFUSALS = {
    550: "550 5.1.1 {address}: Recipient address rejected: User unknown",
    450: "450 4.2.0 {address}: Recipient address rejected: Greylisted, try again later",
    # smtplib closes the connection when it reads a 421
    421: "421 4.3.2 Service shutting down, closing transmission channel",
}


def free_port() -> int:
    """A TCP port nobody listens on (now) on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, server: SMTPTestServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.server._refusal(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.server.data_delay:
            await asyncio.sleep(self.server.data_delay)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=default)
        self.server._record(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"


class SMTPTestServer:
    """aiosmtpd in a thread; ``start()`` / ``stop()`` or a context manager."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        #: seconds to wait before answering DATA (to make clients time out)
        self.data_delay = 0.0
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._refusals: dict[str, int] = {}
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                      server_hostname="smtp.test")

    def start(self) -> SMTPTestServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer RCPT for ``address`` with ``code`` (550, 450 or 421)."""
        if code not in REFUSALS:
            raise ValueError(f"code must be one of {sorted(REFUSALS)}")
        with self._lock:
            self._refusals[address.lower()] = code

    def _refusal(self, address: str) -> str | None:
        with self._lock:
            code = self._refusals.get(address.lower())
        return None if code is None else REFUSALS[code].format(address=f"<{address}>")

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    @property
    def received(self) -> list[Received]:
        """Every accepted message with its envelope, in arrival order."""
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [received.message for received in self.received]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server
