"""Dispatch through SendGrid's API (a fake server on loopback): batching, faults,
retries, the attempt cap, leases after a crash."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.db import db
from avis.mail import outbox
from avis.mail.backends.sendgrid import SendGridBackend
from avis.mail.dispatch import dispatch
from avis.mail.models import MessageStatus, OutboxMessage
from avis.surveys.jobs import create_end_of_training_invitations
from avis.surveys.models.invitations import Invitation, InvitationStatus
from tests.mail.fake_sendgrid import FAKE_API_KEY, FakeSendGrid
from tests.surveys.fixtures import create_session, enrol, seed_enrolments


@pytest.fixture
def sendgrid_app(app: Flask, fake_sendgrid: FakeSendGrid) -> Iterator[Flask]:
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=FAKE_API_KEY,
                      SENDGRID_HOST=fake_sendgrid.url)
    with app.app_context():
        yield app


def backend(fake: FakeSendGrid, batch_size: int = 1000, timeout: float = 5.0) -> SendGridBackend:
    sender = SendGridBackend.from_config({"SENDGRID_API_KEY": FAKE_API_KEY,
                                          "SENDGRID_HOST": fake.url,
                                          "SEND_BATCH_SIZE": batch_size})
    sender.timeout = timeout
    return sender


def invite(count: int) -> None:
    seed_enrolments(count, clock.today() - dt.timedelta(days=2))
    assert create_end_of_training_invitations()["invitations"] == count


def statuses() -> Counter[str]:
    return Counter(str(s) for s in db.session.scalars(sa.select(OutboxMessage.status)))


def drain(fake: FakeSendGrid, sender: SendGridBackend, rounds: int = 20) -> int:
    """Dispatch, moving the clock 4 hours on each round (past every back-off), until
    no message is left to send. Returns the rounds used."""
    moment = clock.now()
    for used in range(1, rounds + 1):
        with clock.frozen_at(moment):
            dispatch(sender)
        open_count = db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status.in_([MessageStatus.queued, MessageStatus.unknown,
                                             MessageStatus.sending])))
        if not open_count:
            return used
        moment += dt.timedelta(hours=4)
    raise AssertionError(f"messages still open after {rounds} rounds: {statuses()}")


def test_one_request_per_batch_of_distinct_addresses(sendgrid_app: Flask,
                                                     fake_sendgrid: FakeSendGrid) -> None:
    invite(250)
    # The same person enrolled in two sessions that ended: two invitations, one address.
    session = create_session(clock.today() - dt.timedelta(days=2))
    twice = create_session(clock.today() - dt.timedelta(days=2))
    enrol(session, "deux@example.org")
    enrol(twice, "deux@example.org")
    db.session.commit()
    create_end_of_training_invitations()
    counts = dispatch(backend(fake_sendgrid, batch_size=100))
    assert counts == {"sent": 252}
    bodies = fake_sendgrid.accepted_requests
    assert all(len(b["personalizations"]) <= 100 for b in bodies)
    for body in bodies:
        addresses = [p["to"][0]["email"] for p in body["personalizations"]]
        assert len(addresses) == len(set(addresses))
    assert set(fake_sendgrid.count_by_invitation().values()) == {1}
    assert len(fake_sendgrid.count_by_invitation()) == 252
    assert statuses() == {"sent": 252}
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)
                                 .where(Invitation.status != InvitationStatus.sent))


def test_every_message_arrives_once_despite_20_percent_faults(
        sendgrid_app: Flask, fake_sendgrid: FakeSendGrid) -> None:
    invite(300)
    # A generous client timeout: a normal answer must never be mistaken for a timeout
    # (that would be "outcome unknown", rightly sent again after the hold).
    # (5 s: a loaded 2-core machine may take more than 2 s to answer a batch.)
    fake_sendgrid.hang_seconds = 6.0
    fake_sendgrid.fail_randomly(0.2, modes=("429", "500", "503", "timeout", "close"), seed=11)
    rounds = drain(fake_sendgrid, backend(fake_sendgrid, batch_size=25, timeout=5.0))
    assert rounds > 1  # faults did happen and were retried
    assert Counter(fake_sendgrid.modes)["ok"] < len(fake_sendgrid.modes)
    received = fake_sendgrid.count_by_invitation()
    assert len(received) == 300
    assert set(received.values()) == {1}
    assert statuses() == {"sent": 300}
    # Attempts: one per request that carried the message, failed ones included.
    seen = fake_sendgrid.seen_by_invitation()
    attempts = dict(db.session.execute(
        sa.select(OutboxMessage.invitation_id, OutboxMessage.attempts)).all())
    assert {str(k): v for k, v in attempts.items()} == dict(seen)
    assert max(attempts.values()) > 1


def test_permanent_failure_after_the_last_attempt(sendgrid_app: Flask,
                                                  fake_sendgrid: FakeSendGrid) -> None:
    invite(3)
    # Every request fails (on PostgreSQL two senders may share a round: count per
    # invitation, not per request).
    fake_sendgrid.fail_randomly(1.0, modes=("500",))
    drain(fake_sendgrid, backend(fake_sendgrid))
    assert set(fake_sendgrid.seen_by_invitation().values()) == {outbox.MAX_ATTEMPTS}
    assert fake_sendgrid.count_by_invitation() == Counter()
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {(m.status, m.attempts) for m in messages} == {
        (MessageStatus.failed, outbox.MAX_ATTEMPTS)}
    assert all("500" in (m.last_error or "") for m in messages)
    invitation_statuses = set(db.session.scalars(sa.select(Invitation.status)))
    assert invitation_statuses == {InvitationStatus.failed}


def test_a_refused_request_fails_at_once(sendgrid_app: Flask,
                                         fake_sendgrid: FakeSendGrid) -> None:
    invite(2)
    fake_sendgrid.fail_randomly(1.0, modes=("400",))
    dispatch(backend(fake_sendgrid))
    assert statuses() == {"failed": 2}


def test_rate_limit_waits_for_the_reset(sendgrid_app: Flask,
                                        fake_sendgrid: FakeSendGrid) -> None:
    invite(2)
    fake_sendgrid.rate_limit_reset_seconds = 120
    fake_sendgrid.fail_randomly(1.0, modes=("429",))
    before = dt.datetime.now(dt.UTC)
    assert dispatch(backend(fake_sendgrid)) == {"retry": 2}
    fake_sendgrid.fail_randomly(0)
    for message in db.session.scalars(sa.select(OutboxMessage)):
        assert message.status == MessageStatus.queued
        wait = message.next_attempt_dt - before
        assert dt.timedelta(seconds=110) < wait < dt.timedelta(seconds=125)
    assert dispatch(backend(fake_sendgrid)) == {}  # not before the reset


def test_a_timeout_is_recorded_as_outcome_unknown(sendgrid_app: Flask,
                                                  fake_sendgrid: FakeSendGrid) -> None:
    invite(2)
    fake_sendgrid.hang_seconds = 0.6
    fake_sendgrid.fail_randomly(1.0, modes=("accept_then_timeout",))
    assert dispatch(backend(fake_sendgrid, timeout=0.3)) == {"unknown": 2}
    fake_sendgrid.fail_randomly(0)
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {m.status for m in messages} == {MessageStatus.unknown}
    assert all("timeout" in (m.last_error or "").lower() for m in messages)
    # Held for the provider's events; sent again only after the hold, if none came.
    with clock.frozen_at(clock.now() + outbox.UNKNOWN_HOLD / 2):
        assert dispatch(backend(fake_sendgrid)) == {}
    with clock.frozen_at(clock.now() + outbox.UNKNOWN_HOLD + dt.timedelta(minutes=1)):
        assert dispatch(backend(fake_sendgrid)) == {"sent": 2}


def test_a_killed_sender_s_messages_are_sent_once_its_lease_ends(
        sendgrid_app: Flask, fake_sendgrid: FakeSendGrid, database_url: str,
        instance_path: Path) -> None:
    invite(40)
    fake_sendgrid.hang_seconds = 60
    # Requests hang: the sender is mid-batch (each of its threads in a request).
    fake_sendgrid.fail_randomly(1.0, modes=("timeout",))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=database_url, AVIS_SECRET_KEY="test",
               AVIS_MAIL_BACKEND="sendgrid", AVIS_SENDGRID_API_KEY=FAKE_API_KEY,
               AVIS_SENDGRID_HOST=fake_sendgrid.url, NO_PROXY="127.0.0.1,localhost")
    avis = str(Path(sys.executable).with_name("avis"))
    sender = subprocess.Popen([avis, "mail", "send"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while fake_sendgrid.request_count < 1:
            assert sender.poll() is None, "the sender stopped"
            assert time.monotonic() < deadline, "the sender never sent"
            time.sleep(0.05)
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait()
    fake_sendgrid.fail_randomly(0)
    db.session.expire_all()
    assert statuses() == {"sending": 40}
    sender_backend = backend(fake_sendgrid)
    assert dispatch(sender_backend) == {}  # the lease still holds
    with clock.frozen_at(clock.now() + outbox.LEASE + dt.timedelta(seconds=1)):
        assert dispatch(sender_backend) == {"sent": 40}
    assert set(fake_sendgrid.count_by_invitation().values()) == {1}
    assert len(fake_sendgrid.count_by_invitation()) == 40
    assert set(db.session.scalars(sa.select(OutboxMessage.attempts))) == {2}
