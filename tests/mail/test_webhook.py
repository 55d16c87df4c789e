"""The SendGrid signed event webhook: only signed, recent batches count, each event once."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.db import db
from avis.mail.models import (
    MessageStatus,
    OutboxMessage,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)
from avis.mail.suppressions import digest, is_suppressed
from avis.surveys.models.invitations import Invitation, InvitationStatus

URL = "/webhooks/sendgrid"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"

_ids = itertools.count(1)
Invited = Callable[..., tuple[Invitation, str]]


def public_key_setting(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, payload: str) -> str:
    """What SendGrid puts in the signature header: base64 DER ECDSA-SHA256 signature."""
    signature = key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


@pytest.fixture
def key(app: Flask) -> ec.EllipticCurvePrivateKey:
    private = ec.generate_private_key(ec.SECP256R1())
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = public_key_setting(private)
    return private


@pytest.fixture
def post(client: FlaskClient, key: ec.EllipticCurvePrivateKey) -> Callable[..., Any]:
    """``post(events)``: a batch signed as SendGrid would, now."""

    def send(events: object, *, body: str | None = None) -> Any:
        payload = body if body is not None else json.dumps(events)
        timestamp = str(int(clock.now().timestamp()))
        return client.post(URL, data=payload, content_type="application/json",
                           headers={SIGNATURE: sign(key, timestamp, payload),
                                    TIMESTAMP: timestamp})

    return send


def event(kind: str, invitation: Invitation | None = None, *, email: str = "x@example.org",
          at: dt.datetime | None = None, **extra: object) -> dict[str, object]:
    """A SendGrid event; custom args come as top-level string keys."""
    n = next(_ids)
    data: dict[str, object] = {
        "email": email,
        "timestamp": int((at or clock.now()).timestamp()),
        "event": kind,
        "sg_event_id": f"ZGVsaXZlcmVkLTAtMjQ{n:06d}",
        "sg_message_id": f"req{n}.filterdrecv-1.2.3.0",
        "smtp-id": f"<req{n}@ismtpd-1>",
        "category": ["invitation"],
    }
    if invitation is not None:
        data["invitation"] = str(invitation.id)
    data.update(extra)
    return data


def event_rows() -> list[ProviderEvent]:
    return list(db.session.scalars(sa.select(ProviderEvent).order_by(ProviderEvent.id)))


def fresh(invitation: Invitation) -> Invitation:
    db.session.refresh(invitation)
    return invitation


def seconds(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


# --- Who may post --------------------------------------------------------------------


def test_a_signed_batch_is_applied(post, invited: Invited) -> None:
    invitation, _token = invited(email="lea@example.org")
    sent = event("delivered", invitation, email="lea@example.org")

    response = post([sent])

    assert response.status_code == 200
    assert response.get_json()["applied"] == 1
    [row] = event_rows()
    assert (row.event_id, row.event_type, row.invitation_id) == (
        sent["sg_event_id"], "delivered", invitation.id)
    assert row.occurred_dt == dt.datetime.fromtimestamp(sent["timestamp"], dt.UTC)
    assert fresh(invitation).status == InvitationStatus.delivered


def test_a_batch_signed_with_another_key_is_refused(client, key, invited: Invited) -> None:
    invitation, _token = invited()
    payload = json.dumps([event("delivered", invitation)])
    timestamp = str(int(clock.now().timestamp()))
    stranger = ec.generate_private_key(ec.SECP256R1())

    response = client.post(URL, data=payload, headers={
        SIGNATURE: sign(stranger, timestamp, payload), TIMESTAMP: timestamp})

    assert response.status_code == 403
    assert event_rows() == []
    assert fresh(invitation).status == InvitationStatus.sent


def test_a_body_changed_after_signing_is_refused(client, key, app_context) -> None:
    payload = json.dumps([event("bounce", email="lea@example.org")])
    timestamp = str(int(clock.now().timestamp()))
    signature = sign(key, timestamp, payload)

    response = client.post(URL, data=payload.replace("lea@", "tom@"),
                           headers={SIGNATURE: signature, TIMESTAMP: timestamp})

    assert response.status_code == 403
    assert event_rows() == []
    assert not is_suppressed("tom@example.org")


@pytest.mark.parametrize("signature", [
    "not base64 at all!",
    base64.b64encode(b"not a DER signature").decode(),
    "",
    "é",
])
def test_a_malformed_signature_is_refused(client, key, app_context, signature) -> None:
    payload = json.dumps([event("bounce", email="lea@example.org")])
    timestamp = str(int(clock.now().timestamp()))

    response = client.post(URL, data=payload, headers={SIGNATURE: signature,
                                                       TIMESTAMP: timestamp})

    assert response.status_code == 403
    assert event_rows() == []


@pytest.mark.parametrize(("offset", "status"), [
    (dt.timedelta(minutes=-11), 403),  # stale: a captured request replayed later
    (dt.timedelta(hours=-30), 403),
    (dt.timedelta(minutes=6), 403),  # from the future, beyond clock skew
    (dt.timedelta(minutes=-9), 200),
    (dt.timedelta(minutes=4), 200),
])
def test_the_timestamp_must_be_recent(client, key, app_context, offset, status) -> None:
    payload = json.dumps([event("bounce", email="lea@example.org")])
    timestamp = str(int((clock.now() + offset).timestamp()))

    response = client.post(URL, data=payload, headers={
        SIGNATURE: sign(key, timestamp, payload), TIMESTAMP: timestamp})

    assert response.status_code == status
    assert len(event_rows()) == (1 if status == 200 else 0)
    assert is_suppressed("lea@example.org") is (status == 200)


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "-5", "+1700000000", "9" * 40])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(client, key, app_context,
                                                         timestamp) -> None:
    payload = json.dumps([event("bounce", email="lea@example.org")])

    response = client.post(URL, data=payload, headers={
        SIGNATURE: sign(key, timestamp, payload), TIMESTAMP: timestamp})

    assert response.status_code == 403
    assert event_rows() == []


@pytest.mark.parametrize("missing", [SIGNATURE, TIMESTAMP, "both"])
def test_missing_signature_headers_are_refused(client, key, app_context, missing) -> None:
    payload = json.dumps([event("bounce", email="lea@example.org")])
    timestamp = str(int(clock.now().timestamp()))
    headers = {SIGNATURE: sign(key, timestamp, payload), TIMESTAMP: timestamp}
    for name in ([SIGNATURE, TIMESTAMP] if missing == "both" else [missing]):
        del headers[name]

    response = client.post(URL, data=payload, headers=headers)

    assert response.status_code == 403
    assert event_rows() == []


def test_without_a_configured_key_everything_is_refused(app, client, app_context) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = None
    payload = json.dumps([event("bounce", email="lea@example.org")])
    timestamp = str(int(clock.now().timestamp()))

    response = client.post(URL, data=payload, headers={
        SIGNATURE: sign(key, timestamp, payload), TIMESTAMP: timestamp})

    assert response.status_code == 403
    assert event_rows() == []


@pytest.mark.parametrize("body", ["", "not json", '{"event": "bounce"}', '"text"', "null"])
def test_a_signed_body_that_is_not_a_json_list_is_refused(post, app_context, body) -> None:
    response = post(None, body=body)

    assert response.status_code == 403
    assert event_rows() == []


def test_the_webhook_needs_no_csrf_token_and_only_accepts_post(client, post,
                                                               app_context) -> None:
    assert post([]).status_code == 200
    assert client.get(URL).status_code == 405


# --- Each event once ---------------------------------------------------------------------


def test_a_replayed_batch_changes_nothing(post, invited: Invited) -> None:
    invitation, _token = invited(email="lea@example.org")
    batch = [event("delivered", invitation, email="lea@example.org"),
             event("open", invitation, email="lea@example.org")]
    assert post(batch).get_json()["applied"] == 2
    assert fresh(invitation).status == InvitationStatus.opened
    # Undo the effects behind the webhook's back: a replay that applied again would redo them.
    db.session.execute(sa.update(Invitation).where(Invitation.id == invitation.id).values(
        status=InvitationStatus.sent, delivered_dt=None, opened_dt=None))
    db.session.commit()

    response = post(batch)

    assert response.status_code == 200
    assert response.get_json() == {"received": 2, "applied": 0, "duplicates": 2,
                                   "malformed": 0, "unknown_invitation": 0}
    assert len(event_rows()) == 2
    invitation = fresh(invitation)
    assert (invitation.status, invitation.delivered_dt, invitation.opened_dt) == (
        InvitationStatus.sent, None, None)


def test_the_same_event_twice_in_one_batch_is_applied_once(post, invited: Invited) -> None:
    invitation, _token = invited()
    delivered = event("delivered", invitation)

    summary = post([delivered, dict(delivered)]).get_json()

    assert (summary["applied"], summary["duplicates"]) == (1, 1)
    assert len(event_rows()) == 1


def test_a_concurrent_delivery_of_the_same_event_does_not_apply_it_twice(
        app: Flask, key, invited: Invited, database_url: str) -> None:
    """Another transaction records the event and commits while this batch waits on it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level waiting on a unique key needs PostgreSQL")
    invitation, _token = invited()
    delivered = event("delivered", invitation)
    payload = json.dumps([delivered])
    timestamp = str(int(clock.now().timestamp()))
    headers = {SIGNATURE: sign(key, timestamp, payload), TIMESTAMP: timestamp}
    responses: list[Any] = []
    with db.engine.connect() as other:
        other.execute(sa.insert(ProviderEvent).values(
            event_id=delivered["sg_event_id"], event_type="delivered",
            invitation_id=invitation.id, received_dt=clock.now()))
        # A request in its own thread has its own application context and connection.
        worker = threading.Thread(target=lambda: responses.append(
            app.test_client().post(URL, data=payload, headers=headers)))
        worker.start()
        time.sleep(0.5)  # let it reach the insert and wait on the uncommitted row
        assert worker.is_alive(), "the batch did not wait for the other transaction"
        other.commit()
        worker.join(30)

    [response] = responses
    assert response.status_code == 200
    assert (response.get_json()["applied"], response.get_json()["duplicates"]) == (0, 1)
    assert fresh(invitation).status == InvitationStatus.sent


# --- Tying events to invitations -----------------------------------------------------------


@pytest.mark.parametrize("reference", ["999999", "abc", "", "99999999999999999999", None, 3.5])
def test_an_event_of_an_unknown_invitation_is_recorded_without_one(post, invited: Invited,
                                                                   reference) -> None:
    invitation, _token = invited(email="lea@example.org")
    bounce = event("bounce", email="lea@example.org", type="bounce")
    if reference is not None:
        bounce["invitation"] = reference

    response = post([bounce])

    assert response.status_code == 200
    assert response.get_json()["unknown_invitation"] == 1
    [row] = event_rows()
    assert row.invitation_id is None
    # The address bounced whatever the invitation: it is suppressed all the same.
    assert is_suppressed("lea@example.org")
    assert fresh(invitation).status == InvitationStatus.bounced


def test_malformed_events_are_skipped_and_the_rest_applied(post, invited: Invited) -> None:
    invitation, _token = invited()
    good = event("delivered", invitation)
    no_id = event("open", invitation)
    del no_id["sg_event_id"]
    batch = [good, no_id, "text", 42, None, [], {"event": 3, "sg_event_id": "x"},
             event("open", invitation, sg_event_id="x" * 101),
             event("delivered", invitation, timestamp="yesterday", email=None)]

    response = post(batch)

    assert response.status_code == 200
    summary = response.get_json()
    assert (summary["received"], summary["applied"], summary["malformed"]) == (9, 2, 7)
    assert fresh(invitation).status == InvitationStatus.delivered


# --- Effects -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["processed", "delivered"])
def test_an_email_whose_send_timed_out_is_sent_once_the_provider_reports_it(
        post, invited: Invited, kind) -> None:
    invitation, _token = invited(status=InvitationStatus.pending)
    message = OutboxMessage(invitation_id=invitation.id, sequence=0, template="invitation",
                            status=MessageStatus.unknown, attempts=1,
                            last_error="timeout")
    db.session.add(message)
    db.session.commit()
    happened = seconds(clock.now())

    assert post([event(kind, invitation, at=happened)]).status_code == 200

    db.session.refresh(message)
    assert message.status == MessageStatus.sent
    assert (message.sent_dt, message.last_error) == (happened, None)
    invitation = fresh(invitation)
    assert invitation.first_sent_dt == happened
    assert invitation.status == (InvitationStatus.sent if kind == "processed"
                                 else InvitationStatus.delivered)


def test_an_event_about_an_earlier_email_leaves_an_unknown_reminder_alone(
        post, invited: Invited) -> None:
    invitation, _token = invited()
    first = OutboxMessage(invitation_id=invitation.id, sequence=0, template="invitation",
                          status=MessageStatus.sent, provider_message_id="req-first")
    reminder = OutboxMessage(invitation_id=invitation.id, sequence=1, template="reminder",
                             status=MessageStatus.unknown)
    db.session.add_all([first, reminder])
    db.session.commit()

    post([event("delivered", invitation, sg_message_id="req-first.filterdrecv-1.0")])

    db.session.refresh(reminder)
    assert reminder.status == MessageStatus.unknown


def test_delivered_keeps_the_first_delivery_time(post, invited: Invited) -> None:
    invitation, _token = invited()
    first = seconds(clock.now()) - dt.timedelta(minutes=30)

    post([event("delivered", invitation, at=first)])
    post([event("delivered", invitation, at=first + dt.timedelta(minutes=20))])

    invitation = fresh(invitation)
    assert invitation.status == InvitationStatus.delivered
    assert invitation.delivered_dt == first


def test_open_sets_the_first_open_time_and_status(post, invited: Invited) -> None:
    invitation, _token = invited()
    first = seconds(clock.now()) - dt.timedelta(minutes=10)

    # Arriving in reverse order: the earlier open still wins.
    post([event("open", invitation, at=first + dt.timedelta(minutes=5))])
    post([event("open", invitation, at=first)])

    invitation = fresh(invitation)
    assert invitation.status == InvitationStatus.opened
    assert invitation.opened_dt == first


def test_open_then_delivered_keeps_opened(post, invited: Invited) -> None:
    invitation, _token = invited()
    delivered_at = seconds(clock.now()) - dt.timedelta(minutes=5)
    opened_at = delivered_at + dt.timedelta(minutes=2)

    post([event("open", invitation, at=opened_at)])
    response = post([event("delivered", invitation, at=delivered_at)])

    assert response.status_code == 200
    invitation = fresh(invitation)
    assert invitation.status == InvitationStatus.opened
    assert (invitation.delivered_dt, invitation.opened_dt) == (delivered_at, opened_at)


def test_a_stale_event_for_a_closed_invitation_is_ignored(post, invited: Invited) -> None:
    invitation, _token = invited(status=InvitationStatus.answered)

    response = post([event("delivered", invitation), event("open", invitation)])

    assert response.status_code == 200
    assert response.get_json()["applied"] == 2
    assert fresh(invitation).status == InvitationStatus.answered


def test_a_bounce_suppresses_the_address_and_cancels_the_queued_reminder(
        post, invited: Invited, caplog) -> None:
    invitation, _token = invited(email="lea@example.org")
    reminder = OutboxMessage(invitation_id=invitation.id, sequence=1, template="reminder")
    db.session.add(reminder)
    db.session.commit()
    caplog.set_level(logging.DEBUG)

    response = post([event("bounce", invitation, email="lea@example.org", type="bounce",
                           reason="550 5.1.1 unknown user")])

    assert response.status_code == 200
    suppression = db.session.scalar(sa.select(Suppression))
    assert suppression.email_digest == digest("lea@example.org")
    assert suppression.reason == SuppressionReason.bounce
    assert fresh(invitation).status == InvitationStatus.bounced
    db.session.refresh(reminder)
    assert reminder.status == MessageStatus.cancelled
    assert "lea@example.org" not in caplog.text


def test_a_blocked_bounce_is_temporary(post, invited: Invited) -> None:
    invitation, _token = invited(email="lea@example.org")

    post([event("bounce", invitation, email="lea@example.org", type="blocked")])

    assert [row.event_type for row in event_rows()] == ["bounce"]
    assert not is_suppressed("lea@example.org")
    assert fresh(invitation).status == InvitationStatus.sent


@pytest.mark.parametrize(("kind", "reason", "status"), [
    ("dropped", SuppressionReason.bounce, InvitationStatus.bounced),
    ("spamreport", SuppressionReason.complaint, InvitationStatus.complained),
    ("unsubscribe", SuppressionReason.unsubscribe, InvitationStatus.unsubscribed),
    ("group_unsubscribe", SuppressionReason.unsubscribe, InvitationStatus.unsubscribed),
])
def test_events_that_stop_email_to_the_address(post, invited: Invited, kind, reason,
                                               status) -> None:
    invitation, _token = invited(email="lea@example.org")
    # Another invitation of the same trainee is closed too.
    other, _token = invited(email="lea@example.org")

    post([event(kind, invitation, email="Lea@Example.org")])

    assert db.session.scalar(sa.select(Suppression.reason)) == reason
    assert fresh(invitation).status == status
    assert fresh(other).status == status


@pytest.mark.parametrize("kind", ["click", "deferred", "group_resubscribe", "new-kind"])
def test_other_events_are_only_recorded(post, invited: Invited, kind) -> None:
    invitation, _token = invited(email="lea@example.org")

    response = post([event(kind, invitation, email="lea@example.org")])

    assert response.status_code == 200
    assert [row.event_type for row in event_rows()] == [kind]
    assert fresh(invitation).status == InvitationStatus.sent
    assert not is_suppressed("lea@example.org")


def test_events_after_a_bounce_in_the_same_batch_see_the_bounce(post, invited: Invited) -> None:
    invitation, _token = invited(email="lea@example.org")
    bounced_at = seconds(clock.now()) - dt.timedelta(minutes=2)

    post([event("bounce", invitation, email="lea@example.org", type="bounce", at=bounced_at),
          event("delivered", invitation, at=bounced_at + dt.timedelta(minutes=1))])

    assert fresh(invitation).status == InvitationStatus.bounced
