"""Development backend: every email becomes an ``.eml`` file in ``<instance>/mailbox/``.

Nothing leaves the machine; ``/dev/mailbox`` shows the files. Each file is written to a
temporary name and renamed, so a reader never sees half a message.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import secrets
import tempfile
from collections.abc import Mapping
from email.errors import MessageError
from pathlib import Path
from typing import Any

from avis.mail.backends.base import Batch, Delivery, DeliveryState, Recipient
from avis.mail.message import build_email

MAILBOX_DIRNAME = "mailbox"


class FileBackend:
    max_batch_size = 1000

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str | Path) -> FileBackend:
        return cls(Path(instance_path) / MAILBOX_DIRNAME)

    def send(self, batch: Batch) -> list[Delivery]:
        """One delivery per message: ``sent`` with the file name, ``retry`` when the disk
        refused it, ``failed`` when the message itself cannot be built."""
        try:
            # Private: the files hold working survey links.
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            return [_retry(r, error) for r in batch.recipients]
        return [self._deliver(batch, recipient) for recipient in batch.recipients]

    def _deliver(self, batch: Batch, recipient: Recipient) -> Delivery:
        try:
            data = build_email(batch, recipient).as_bytes()
        except (MessageError, ValueError, TypeError) as error:
            # A header the email package refuses (a line break in an address): sending
            # again would fail the same way.
            return Delivery([recipient.message_id], DeliveryState.failed,
                            error=f"cannot build message: {type(error).__name__}")
        try:
            name = self._write(data, recipient.message_id)
        except OSError as error:
            return _retry(recipient, error)
        return Delivery([recipient.message_id], DeliveryState.sent, provider_message_id=name)

    def _write(self, data: bytes, message_id: int) -> str:
        name = file_name(message_id)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            # No fsync: a development mailbox need not survive a power cut, and fsync
            # per message would make large batches crawl.
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return name


def file_name(message_id: int, now: dt.datetime | None = None) -> str:
    """``20261126T101500.123456-42-1a2b3c4d.eml``: UTC time first so that names sort by
    time; the random part keeps two sends of one message in the same microsecond apart."""
    moment = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S.%f")
    return f"{moment}-{message_id}-{secrets.token_hex(4)}.eml"


def _retry(recipient: Recipient, error: OSError) -> Delivery:
    # The errno name only: the message (and the path) say nothing useful to the outbox.
    code = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return Delivery([recipient.message_id], DeliveryState.retry, error=f"write failed: {code}")
