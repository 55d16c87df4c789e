"""The file backend writes real, parseable emails into the instance mailbox."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from flask import Flask

from avis.mail import render
from avis.mail.backends import Batch, DeliveryState, Recipient, backend_for
from avis.mail.backends.file import FileBackend, file_name
from avis.mail.message import personalize
from tests.mail.test_render import HOSTILE_TITLE, UNSUBSCRIBE_LINK, make_values

pytestmark = pytest.mark.usefixtures("app_context")


def recipient(message_id: int, email: str, values: render.MailValues | None = None,
              template: str = "invitation") -> Recipient:
    values = values or make_values()
    substitutions = render.substitutions(values)
    subject = personalize(render.content(template), substitutions).subject
    return Recipient(
        message_id=message_id, invitation_id=message_id + 100, email=email,
        name=render.display_name(values), subject=subject, substitutions=substitutions,
        headers=render.recipient_headers(values))


def batch(*recipients: Recipient, template: str = "invitation") -> Batch:
    return Batch(content=render.content(template), recipients=list(recipients),
                 sender="avis@avis.example", category=template)


def parse(path: Path) -> EmailMessage:
    with path.open("rb") as file:
        message = BytesParser(policy=default_policy).parse(file)
    assert isinstance(message, EmailMessage)
    return message


def test_writes_one_parseable_eml_per_recipient(app: Flask, instance_path: Path) -> None:
    backend = backend_for(app)
    values = make_values(course_title=HOSTILE_TITLE)

    deliveries = backend.send(batch(recipient(1, "marie@example.org", values)))

    assert isinstance(backend, FileBackend)
    [delivery] = deliveries
    assert delivery.message_ids == [1]
    assert delivery.state is DeliveryState.sent
    path = instance_path / "mailbox" / str(delivery.provider_message_id)
    message = parse(path)
    assert message["To"] == "Marie Dupont <marie@example.org>"
    assert message["From"] == "avis <avis@avis.example>"
    assert message["Subject"] == f"Votre avis sur votre formation «\u00a0{HOSTILE_TITLE}\u00a0»"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE_LINK}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert HOSTILE_TITLE in text.get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in html.get_content()
    assert "<script>" not in html.get_content()


def test_every_message_gets_its_own_file_and_nothing_else_is_left(instance_path: Path) -> None:
    backend = FileBackend(instance_path / "mailbox")

    deliveries = backend.send(batch(recipient(1, "a@example.org"), recipient(2, "b@example.org"),
                                    recipient(3, "c@example.org")))

    assert [d.message_ids for d in deliveries] == [[1], [2], [3]]
    assert all(d.state is DeliveryState.sent for d in deliveries)
    files = sorted(p.name for p in (instance_path / "mailbox").iterdir())
    assert files == sorted(str(d.provider_message_id) for d in deliveries)
    recipients = {parse(instance_path / "mailbox" / name)["To"].addresses[0].addr_spec
                  for name in files}
    assert recipients == {"a@example.org", "b@example.org", "c@example.org"}


def test_file_names_sort_by_time_and_never_collide() -> None:
    early = dt.datetime(2026, 11, 26, 10, 15, 0, 123456, tzinfo=dt.UTC)
    late = dt.datetime(2026, 11, 26, 10, 15, 0, 123457, tzinfo=dt.UTC)

    first, second = file_name(99, late), file_name(5, early)

    assert first.startswith("20261126T101500.123457-99-")
    assert first.endswith(".eml")
    assert sorted([first, second]) == [second, first]
    assert file_name(5, early) != file_name(5, early)


def test_an_unwritable_mailbox_means_retry_for_everyone(instance_path: Path) -> None:
    blocker = instance_path / "mailbox"
    blocker.write_text("a file where the mailbox directory should be")

    deliveries = FileBackend(blocker).send(
        batch(recipient(1, "a@example.org"), recipient(2, "b@example.org")))

    assert [d.message_ids for d in deliveries] == [[1], [2]]
    assert all(d.state is DeliveryState.retry for d in deliveries)
    assert all(d.error == "write failed: EEXIST" for d in deliveries)


def test_a_failed_write_does_not_stop_the_batch(instance_path: Path) -> None:
    # A message id this long makes a file name the file system refuses (ENAMETOOLONG).
    huge_id = 10**300
    mailbox = instance_path / "mailbox"

    deliveries = FileBackend(mailbox).send(
        batch(recipient(1, "a@example.org"), recipient(huge_id, "b@example.org"),
              recipient(3, "c@example.org")))

    states = {d.message_ids[0]: d.state for d in deliveries}
    assert states == {1: DeliveryState.sent, huge_id: DeliveryState.retry,
                      3: DeliveryState.sent}
    failed = next(d for d in deliveries if d.message_ids == [huge_id])
    assert failed.error == "write failed: ENAMETOOLONG"
    # The temporary file of the failed write is gone.
    assert len(list(mailbox.iterdir())) == 2


def test_a_message_that_cannot_be_built_fails_without_stopping_the_batch(
        instance_path: Path) -> None:
    deliveries = FileBackend(instance_path / "mailbox").send(
        batch(recipient(1, "a@example.org\r\nBcc: victim@example.org"),
              recipient(2, "b@example.org")))

    assert [(d.message_ids, d.state) for d in deliveries] == [
        ([1], DeliveryState.failed), ([2], DeliveryState.sent)]
    assert deliveries[0].error is not None
    assert "victim" not in deliveries[0].error
    assert len(list((instance_path / "mailbox").iterdir())) == 1


def test_from_config_uses_the_instance_mailbox(app: Flask, instance_path: Path) -> None:
    backend = FileBackend.from_config(app.config, app.instance_path)

    assert backend.directory == instance_path / "mailbox"
    assert backend.max_batch_size == 1000
