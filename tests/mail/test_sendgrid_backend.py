"""SendGrid backend against the fake SendGrid server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from avis.mail.backends.base import Batch, Delivery, DeliveryState
from avis.mail.backends.sendgrid import (
    SendGridBackend,
    error_summary,
    rate_limit_reset,
)
from tests.mail import builders
from tests.mail.fake_sendgrid import (  # noqa: F401 (a fixture)
    FAKE_API_KEY,
    FakeSendGrid,
    fake_sendgrid_fixture,
)
from tests.mail.smtp_server import free_port

recipient = builders.recipient


def make_batch(count: int = 3, *, category: str | None = "invitation") -> Batch:
    return builders.make_batch([recipient(n) for n in range(1, count + 1)], category=category)


def backend_for(server: FakeSendGrid, **kwargs: Any) -> SendGridBackend:
    return SendGridBackend(FAKE_API_KEY, host=server.url, **kwargs)


def assert_clean(deliveries: list[Delivery]) -> None:
    """Errors are short and carry no address."""
    for delivery in deliveries:
        if delivery.error is not None:
            assert len(delivery.error) <= 500
            assert "@" not in delivery.error


def post(server: FakeSendGrid, body: Any, *, key: str | None = FAKE_API_KEY,
         raw: bytes | None = None) -> tuple[int, dict[str, Any] | None]:
    """A bare POST to the fake server, without our backend or the library."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}/v3/mail/send", data=data, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            content = response.read()
            return response.status, json.loads(content) if content else None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


# request shape


def test_request_shape(fake_sendgrid: FakeSendGrid) -> None:
    batch = make_batch(3)
    deliveries = backend_for(fake_sendgrid).send(batch)

    assert [d.state for d in deliveries] == [DeliveryState.sent]
    [body] = fake_sendgrid.accepted_requests
    assert body["from"] == {"email": "avis@avis.test", "name": "avis"}
    assert body["content"] == [
        {"type": "text/plain", "value": builders.CONTENT.text},
        {"type": "text/html", "value": builders.CONTENT.html},
    ]
    assert body["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}
    assert body["categories"] == ["invitation"]
    # the order of the batch is kept (the library's add_personalization would reverse it)
    assert [p["to"] for p in body["personalizations"]] == [
        [{"email": r.email, "name": r.name}] for r in batch.recipients
    ]
    for personalization, expected in zip(body["personalizations"], batch.recipients,
                                         strict=True):
        assert personalization["subject"] == expected.subject
        assert personalization["substitutions"] == expected.substitutions
        assert personalization["headers"] == expected.headers
        # the opaque id only: no address, no token
        assert personalization["custom_args"] == {"invitation": str(expected.invitation_id)}
    assert "custom_args" not in body


def test_a_name_with_a_comma_or_a_semicolon_does_not_sink_the_batch(
        fake_sendgrid: FakeSendGrid) -> None:
    """SendGrid refuses ``,`` and ``;`` in a recipient's name, for the whole request."""
    batch = builders.make_batch([recipient(1, display="Dupont, Marie"),
                                 recipient(2, display="Martin; Léa ;"), recipient(3)])

    deliveries = backend_for(fake_sendgrid).send(batch)

    assert [d.state for d in deliveries] == [DeliveryState.sent]
    [body] = fake_sendgrid.accepted_requests
    assert [p["to"][0]["name"] for p in body["personalizations"]] == [
        "Dupont Marie", "Martin Léa", "Stagiaire 3"]


def test_no_category_no_categories(fake_sendgrid: FakeSendGrid) -> None:
    backend_for(fake_sendgrid).send(make_batch(1, category=None))
    [body] = fake_sendgrid.accepted_requests
    assert "categories" not in body


def test_sent_with_message_id(fake_sendgrid: FakeSendGrid) -> None:
    deliveries = backend_for(fake_sendgrid).send(make_batch(3))

    assert deliveries == [Delivery(message_ids=[1, 2, 3], state=DeliveryState.sent,
                                   provider_message_id=fake_sendgrid.message_ids[0])]
    assert fake_sendgrid.count_by_invitation() == {"10001": 1, "10002": 1, "10003": 1}
    assert [message_id for message_id, _ in fake_sendgrid.deliveries] == (
        fake_sendgrid.message_ids * 3)


def test_empty_batch_sends_nothing(fake_sendgrid: FakeSendGrid) -> None:
    assert backend_for(fake_sendgrid).send(make_batch(0)) == []
    assert fake_sendgrid.request_count == 0


def test_timeout_is_set_on_the_client() -> None:
    backend = SendGridBackend("SG.x")
    assert backend.timeout == 30
    assert backend.client().client.timeout == 30
    backend.timeout = 2.5
    assert backend.client().client.timeout == 2.5


def test_from_config() -> None:
    backend = SendGridBackend.from_config({"SENDGRID_API_KEY": "SG.x", "SEND_BATCH_SIZE": 5000})
    assert backend.max_batch_size == 1000  # SendGrid's limit
    assert backend.host == "https://api.sendgrid.com"
    backend = SendGridBackend.from_config({"SENDGRID_API_KEY": "SG.x", "SEND_BATCH_SIZE": 200,
                                           "SENDGRID_HOST": "http://127.0.0.1:1/"})
    assert backend.max_batch_size == 200
    assert backend.host == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        SendGridBackend.from_config({})


# refused before any request


def test_duplicate_address_refused_before_any_request(fake_sendgrid: FakeSendGrid) -> None:
    batch = make_batch(2)
    batch.recipients.append(recipient(3, email="Trainee1@Example.org"))
    with pytest.raises(ValueError, match="address already in the batch") as raised:
        backend_for(fake_sendgrid).send(batch)
    assert "@" not in str(raised.value)
    assert fake_sendgrid.request_count == 0


def test_oversized_batch_refused(fake_sendgrid: FakeSendGrid) -> None:
    with pytest.raises(ValueError, match="over the maximum"):
        backend_for(fake_sendgrid, batch_size=2).send(make_batch(3))
    assert fake_sendgrid.request_count == 0


# outcomes


@pytest.mark.parametrize("mode", ["500", "502", "503", "504", "close"])
def test_server_errors_and_closed_connections_retry(fake_sendgrid: FakeSendGrid,
                                                    mode: str) -> None:
    fake_sendgrid.script([mode])
    deliveries = backend_for(fake_sendgrid).send(make_batch(3))

    [delivery] = deliveries
    assert delivery.message_ids == [1, 2, 3]
    assert delivery.state is DeliveryState.retry
    assert delivery.retry_at is None
    assert fake_sendgrid.accepted_requests == []
    assert_clean(deliveries)


def test_rate_limited_retry_at_reset(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.rate_limit_reset_seconds = 30
    fake_sendgrid.script(["429"])
    before = int(time.time())
    [delivery] = backend_for(fake_sendgrid).send(make_batch(2))

    assert delivery.state is DeliveryState.retry
    assert delivery.retry_at is not None
    assert delivery.retry_at.tzinfo is not None
    assert delivery.retry_at.utcoffset() == dt.timedelta(0)
    reset = delivery.retry_at.timestamp()
    assert before + 30 <= reset <= time.time() + 30
    assert "429" in (delivery.error or "")


def test_rate_limit_reset_header() -> None:
    assert rate_limit_reset({"X-RateLimit-Reset": "1700000000"}) == dt.datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert rate_limit_reset({}) is None
    assert rate_limit_reset(None) is None
    for garbage in ("soon", "", "nan", "1e400", "99999999999999999999"):
        assert rate_limit_reset({"X-RateLimit-Reset": garbage}) is None


def test_timeout_is_outcome_unknown(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.hang_seconds = 4.0
    fake_sendgrid.script(["timeout"])
    started = time.monotonic()
    deliveries = backend_for(fake_sendgrid, timeout=0.5).send(make_batch(3))

    # Our timeout, not the server's close (a wide margin for a loaded machine).
    assert time.monotonic() - started < 3.5
    assert deliveries == [Delivery(message_ids=[1, 2, 3], state=DeliveryState.unknown,
                                   error="timeout: outcome unknown")]
    assert fake_sendgrid.accepted_requests == []


def test_accepted_then_timeout_is_outcome_unknown(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.hang_seconds = 2.0
    fake_sendgrid.script(["accept_then_timeout"])
    [delivery] = backend_for(fake_sendgrid, timeout=0.5).send(make_batch(3))

    assert delivery.state is DeliveryState.unknown
    # the reason "unknown" is not "retry": SendGrid did take these
    assert fake_sendgrid.count_by_invitation() == {"10001": 1, "10002": 1, "10003": 1}


def test_refused_key_retries(fake_sendgrid: FakeSendGrid) -> None:
    backend = SendGridBackend("SG.wrong", host=fake_sendgrid.url)
    [delivery] = backend.send(make_batch(2))

    assert delivery.state is DeliveryState.retry
    assert delivery.error == "HTTP 401: SendGrid refused the API key"
    assert fake_sendgrid.accepted_requests == []


def test_bad_request_fails(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.script(["400"])
    deliveries = backend_for(fake_sendgrid).send(make_batch(2))

    assert deliveries == [Delivery(message_ids=[1, 2], state=DeliveryState.failed,
                                   error="HTTP 400: Bad Request")]


def test_validation_error_fails_with_field(fake_sendgrid: FakeSendGrid) -> None:
    batch = make_batch(2)
    # an address SendGrid does not take: the request is refused as a whole
    batch.recipients[1] = recipient(2, email="not-an-address")
    deliveries = backend_for(fake_sendgrid).send(batch)

    assert deliveries == [Delivery(
        message_ids=[1, 2], state=DeliveryState.failed,
        error="HTTP 400: personalizations.1.to.0.email: Does not contain a valid address.")]


def test_error_summary_drops_echoed_addresses(fake_sendgrid: FakeSendGrid) -> None:
    body = SendGridBackend(FAKE_API_KEY).request_body(make_batch(2))
    body["personalizations"][1]["to"][0]["email"] = "trainee1@example.org"
    client = SendGridAPIClient(FAKE_API_KEY, host=fake_sendgrid.url)
    with pytest.raises(http_errors.BadRequestsError) as raised:
        client.send(body)
    assert b"trainee1@example.org" in raised.value.body  # the API echoes it...

    summary = error_summary(raised.value.body)
    assert summary.startswith("personalizations.1: Each email address")
    assert "@" not in summary  # ...we do not keep it
    assert error_summary(b"<html>gateway</html>") == ""
    assert len(error_summary(json.dumps(
        {"errors": [{"field": "x", "message": "y" * 5000}] * 10}))) <= 1100


def test_connection_refused_retries() -> None:
    backend = SendGridBackend(FAKE_API_KEY, host=f"http://127.0.0.1:{free_port()}", timeout=2)
    deliveries = backend.send(make_batch(2))

    assert [(d.message_ids, d.state) for d in deliveries] == [([1, 2], DeliveryState.retry)]
    assert (deliveries[0].error or "").startswith("connection error: ConnectionRefusedError")


def test_a_thousand_personalizations_in_one_request(fake_sendgrid: FakeSendGrid) -> None:
    backend = backend_for(fake_sendgrid)
    assert backend.max_batch_size == 1000
    [delivery] = backend.send(make_batch(1000))

    assert delivery.state is DeliveryState.sent
    assert delivery.message_ids == list(range(1, 1001))
    assert fake_sendgrid.request_count == 1
    assert len(fake_sendgrid.deliveries) == 1000
    assert set(fake_sendgrid.count_by_invitation().values()) == {1}


def test_random_faults_are_reproducible(fake_sendgrid: FakeSendGrid) -> None:
    # None of these modes hangs: a generous timeout keeps a slow "ok" from timing out on
    # a loaded machine (which would shift the sequence of modes).
    backend = backend_for(fake_sendgrid, timeout=10)
    fake_sendgrid.fail_randomly(rate=0.5, modes=("429", "503", "close"), seed=7)
    states = [backend.send(make_batch(1))[0].state for _ in range(20)]
    first_modes = fake_sendgrid.modes

    fake_sendgrid.reset()
    fake_sendgrid.fail_randomly(rate=0.5, modes=("429", "503", "close"), seed=7)
    for _ in range(20):
        backend.send(make_batch(1))
    assert fake_sendgrid.modes == first_modes
    assert "ok" in first_modes
    assert len(set(first_modes)) >= 3
    assert states == [DeliveryState.sent if mode == "ok" else DeliveryState.retry
                      for mode in first_modes]

    fake_sendgrid.fail_randomly(rate=0)
    assert backend.send(make_batch(1))[0].state is DeliveryState.sent


# the fake itself: it refuses what SendGrid refuses


def minimal_body(count: int = 1) -> dict[str, Any]:
    return {
        "from": {"email": "avis@avis.test"},
        "subject": "Sujet",
        "content": [{"type": "text/plain", "value": "texte"}],
        "personalizations": [{"to": [{"email": f"t{n}@example.org"}]} for n in range(count)],
    }


def test_fake_accepts_a_minimal_request(fake_sendgrid: FakeSendGrid) -> None:
    assert post(fake_sendgrid, minimal_body()) == (202, None)
    assert fake_sendgrid.accepted_requests == [minimal_body()]


@pytest.mark.parametrize("key", [None, "SG.other"])
def test_fake_checks_the_key(fake_sendgrid: FakeSendGrid, key: str | None) -> None:
    status, body = post(fake_sendgrid, minimal_body(), key=key)
    assert status == 401
    assert body is not None
    assert set(body["errors"][0]) == {"message", "field", "help"}
    assert fake_sendgrid.accepted_requests == []


def test_fake_refuses_more_than_a_thousand_personalizations(fake_sendgrid: FakeSendGrid) -> None:
    body = SendGridBackend(FAKE_API_KEY).request_body(make_batch(1000))
    body["personalizations"].append({"to": [{"email": "t1001@example.org"}], "subject": "s"})
    client = SendGridAPIClient(FAKE_API_KEY, host=fake_sendgrid.url)
    with pytest.raises(http_errors.BadRequestsError) as raised:
        client.send(body)
    assert raised.value.to_dict["errors"][0]["field"] == "personalizations"
    assert "1001 personalizations" in raised.value.to_dict["errors"][0]["message"]
    assert fake_sendgrid.accepted_requests == []


def invalid(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``body`` with ``value`` set at a dotted path (``None`` deletes)."""
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is None:
        del target[key]
    else:
        target[key] = value
    return body


@pytest.mark.parametrize(("body", "field"), [
    (invalid(minimal_body(2), "personalizations.1.to.0.email", "T0@example.org"),
     "personalizations.1"),
    (invalid(minimal_body(1), "personalizations.0.cc", [{"email": "t0@example.org"}]),
     "personalizations.0"),
    (invalid(minimal_body(1), "personalizations.0.bcc",
             [{"email": f"b{n}@example.org"} for n in range(1000)]), "personalizations"),
    (invalid(minimal_body(), "personalizations", []), "personalizations"),
    (invalid(minimal_body(), "personalizations.0.to", None), "personalizations.0.to"),
    (invalid(minimal_body(), "from", None), "from"),
    (invalid(minimal_body(), "from.email", "nobody"), "from.email"),
    (invalid(minimal_body(), "content", None), "content"),
    (invalid(minimal_body(), "content", [{"type": "text/html", "value": "<p>x</p>"},
                                         {"type": "text/plain", "value": "x"}]), "content"),
    (invalid(minimal_body(), "subject", None), "subject"),
    (invalid(minimal_body(), "personalizations.0.custom_args", {"invitation": 12}),
     "personalizations.0.custom_args.invitation"),
    (invalid(minimal_body(), "personalizations.0.substitutions", {"[[x]]": 1}),
     "personalizations.0.substitutions.[[x]]"),
], ids=["duplicate-to", "duplicate-cc", "over-1000-recipients", "no-personalization",
        "no-to", "no-from", "bad-from", "no-content", "html-before-text", "no-subject",
        "custom-args-not-string", "substitution-not-string"])
def test_fake_refuses_what_sendgrid_refuses(fake_sendgrid: FakeSendGrid, body: dict[str, Any],
                                            field: str) -> None:
    status, answer = post(fake_sendgrid, body)
    assert status == 400
    assert answer is not None
    assert answer["errors"][0]["field"] == field
    assert fake_sendgrid.accepted_requests == []
    assert fake_sendgrid.refused_count == 1


def test_fake_subject_per_personalization_is_enough(fake_sendgrid: FakeSendGrid) -> None:
    body = invalid(minimal_body(), "subject", None)
    body["personalizations"][0]["subject"] = "Sujet"
    assert post(fake_sendgrid, body)[0] == 202


def test_fake_refuses_malformed_json(fake_sendgrid: FakeSendGrid) -> None:
    status, answer = post(fake_sendgrid, None, raw=b"{not json")
    assert status == 400
    assert answer is not None
    assert answer["errors"][0]["message"] == "Bad Request"


def test_fake_script_then_normal(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.script(["503", "429"])
    assert post(fake_sendgrid, minimal_body())[0] == 503
    assert post(fake_sendgrid, minimal_body())[0] == 429
    assert post(fake_sendgrid, minimal_body())[0] == 202
    assert fake_sendgrid.modes == ["503", "429", "ok"]
    assert fake_sendgrid.request_count == 3
    with pytest.raises(ValueError, match="unknown mode"):
        fake_sendgrid.script(["explode"])


def test_fake_close_ends_hanging_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeSendGrid(api_key="SG.test", hang_seconds=60) as server:
        server.script(["timeout", "accept_then_timeout"])
        backend = SendGridBackend("SG.test", host=server.url, timeout=0.3)
        assert backend.send(make_batch(1))[0].state is DeliveryState.unknown
        assert backend.send(make_batch(1))[0].state is DeliveryState.unknown
        started = time.monotonic()
    # The handlers hang for 60 s: closing well before that proves they were ended (a
    # wide margin for a loaded machine).
    assert time.monotonic() - started < 20
    assert len(server.accepted_requests) == 1


def test_fake_counts_every_attempt(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.script(["503", "close"])
    backend = backend_for(fake_sendgrid)
    batch = make_batch(2)
    states = [backend.send(batch)[0].state for _ in range(3)]

    assert states == [DeliveryState.retry, DeliveryState.retry, DeliveryState.sent]
    assert fake_sendgrid.seen_by_invitation() == {"10001": 3, "10002": 3}
    assert fake_sendgrid.count_by_invitation() == {"10001": 1, "10002": 1}
    fake_sendgrid.reset()
    assert fake_sendgrid.seen_by_invitation() == {}
    assert fake_sendgrid.request_count == 0
