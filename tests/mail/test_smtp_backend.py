"""SMTP backend against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import time

from avis.mail.backends.base import Batch, DeliveryState, Recipient
from avis.mail.backends.smtp import SMTPBackend
from tests.mail import builders
from tests.mail.smtp_server import (  # noqa: F401 (a fixture)
    SMTPTestServer,
    free_port,
    smtp_server_fixture,
)


def recipient(number: int) -> Recipient:
    return builders.recipient(number, display="Stagiaire Élodie {n}", greeting="Élodie {n}")


def make_batch(count: int = 3) -> Batch:
    return builders.make_batch([recipient(n) for n in range(1, count + 1)])


def backend_for(server: SMTPTestServer, **kwargs: object) -> SMTPBackend:
    return SMTPBackend(server.host, server.port, local_hostname="client.test", **kwargs)


def states(deliveries: list) -> dict[int, DeliveryState]:
    """message id → state; each id exactly once."""
    result: dict[int, DeliveryState] = {}
    for delivery in deliveries:
        for message_id in delivery.message_ids:
            assert message_id not in result
            result[message_id] = delivery.state
        assert delivery.error is None or (
            "@" not in delivery.error and len(delivery.error) <= 500)
    return result


def test_messages_received_with_both_parts_and_headers(smtp_server: SMTPTestServer) -> None:
    deliveries = backend_for(smtp_server).send(make_batch(2))

    assert states(deliveries) == {1: DeliveryState.sent, 2: DeliveryState.sent}
    received = smtp_server.received
    assert [r.rcpt_tos for r in received] == [["trainee1@example.org"], ["trainee2@example.org"]]
    assert all(r.mail_from == "avis@avis.test" for r in received)
    message = received[0].message
    assert message["To"] == "Stagiaire Élodie 1 <trainee1@example.org>"
    assert message["From"] == "avis <avis@avis.test>"
    assert message["Subject"] == "Votre avis sur la formation 1"
    assert message["List-Unsubscribe"] == "<https://avis.test/unsubscribe/tok000001>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().replace("\r\n", "\n") == (
        "Bonjour Élodie 1,\nDonnez votre avis : https://avis.test/q/tok000001\n")
    assert '<a href="https://avis.test/q/tok000001">' in html.get_content()
    assert "[[" not in text.get_content() + html.get_content()
    # the provider id is the Message-ID the server received
    assert [d.provider_message_id for d in deliveries] == [
        r.message["Message-ID"] for r in received]


def test_refused_address_fails_alone(smtp_server: SMTPTestServer) -> None:
    smtp_server.refuse("trainee2@example.org", 550)
    deliveries = backend_for(smtp_server).send(make_batch(3))

    assert states(deliveries) == {1: DeliveryState.sent, 2: DeliveryState.failed,
                                  3: DeliveryState.sent}
    [failed] = [d for d in deliveries if d.state is DeliveryState.failed]
    assert failed.error is not None
    assert failed.error.startswith("SMTP 550 5.1.1")
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ["trainee1@example.org"], ["trainee3@example.org"]]


def test_temporarily_refused_address_retries(smtp_server: SMTPTestServer) -> None:
    smtp_server.refuse("trainee1@example.org", 450)
    deliveries = backend_for(smtp_server).send(make_batch(2))

    assert states(deliveries) == {1: DeliveryState.retry, 2: DeliveryState.sent}


def test_server_closing_retries_the_rest(smtp_server: SMTPTestServer) -> None:
    smtp_server.refuse("trainee2@example.org", 421)
    deliveries = backend_for(smtp_server).send(make_batch(4))

    assert states(deliveries) == {1: DeliveryState.sent, 2: DeliveryState.retry,
                                  3: DeliveryState.retry, 4: DeliveryState.retry}
    assert len(smtp_server.received) == 1


def test_server_down_retries_everything() -> None:
    backend = SMTPBackend("127.0.0.1", free_port(), local_hostname="client.test", timeout=2)
    deliveries = backend.send(make_batch(3))

    assert states(deliveries) == {1: DeliveryState.retry, 2: DeliveryState.retry,
                                  3: DeliveryState.retry}
    assert deliveries[0].error == "SMTP connection failed: ConnectionRefusedError"


def test_timeout_is_unknown_then_retry(smtp_server: SMTPTestServer) -> None:
    smtp_server.data_delay = 4.0
    started = time.monotonic()
    deliveries = backend_for(smtp_server, timeout=0.5).send(make_batch(3))

    assert time.monotonic() - started < 3.5  # our timeout, with room for a loaded machine
    assert states(deliveries) == {1: DeliveryState.unknown, 2: DeliveryState.retry,
                                  3: DeliveryState.retry}


def test_from_config() -> None:
    backend = SMTPBackend.from_config({"SMTP_HOST": "mail.test", "SMTP_PORT": "2525",
                                       "SEND_BATCH_SIZE": 50})
    assert (backend.host, backend.port, backend.max_batch_size) == ("mail.test", 2525, 50)
    backend = SMTPBackend.from_config({})
    assert (backend.host, backend.port, backend.timeout) == ("localhost", 25, 30)


def test_empty_batch() -> None:
    # no connection at all: the port is closed
    assert SMTPBackend("127.0.0.1", free_port()).send(make_batch(0)) == []
