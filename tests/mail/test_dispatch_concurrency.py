"""Several schedulers and senders at once, on PostgreSQL: every invitation sent once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage
from avis.scheduler.models import JobRun
from avis.surveys.models.invitations import Invitation
from tests.mail.fake_sendgrid import FAKE_API_KEY, FakeSendGrid
from tests.surveys.fixtures import seed_enrolments

pytestmark = pytest.mark.slow

TRAINEES = 20_000


def count(query: sa.Select) -> int:
    db.session.rollback()  # see what the other processes committed
    return db.session.scalar(query) or 0


def test_three_senders_and_two_schedulers_send_each_invitation_once(
        app: Flask, app_context: None, database_url: str, fake_sendgrid: FakeSendGrid,
        tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent senders need PostgreSQL (SQLite ignores SKIP LOCKED)")
    seed_enrolments(TRAINEES, clock.today() - dt.timedelta(days=2), sessions=40)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=database_url, AVIS_SECRET_KEY="test",
               AVIS_MAIL_BACKEND="sendgrid", AVIS_SENDGRID_API_KEY=FAKE_API_KEY,
               AVIS_SENDGRID_HOST=fake_sendgrid.url, AVIS_SEND_BATCH_SIZE="500",
               NO_PROXY="127.0.0.1,localhost")
    avis = str(Path(sys.executable).with_name("avis"))

    logs: list[Path] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        # Output to files: a full pipe nobody reads would block a process.
        logs.append(tmp_path / f"process-{len(logs)}.log")
        with logs[-1].open("wb") as log:
            return subprocess.Popen([avis, *args], env=env, stdout=log,
                                    stderr=subprocess.STDOUT)

    schedulers = [start("scheduler"), start("scheduler")]
    senders: list[subprocess.Popen[bytes]] = []
    total_messages = sa.select(sa.func.count()).select_from(OutboxMessage)
    sent = total_messages.where(OutboxMessage.status == MessageStatus.sent)
    try:
        deadline = time.monotonic() + 120
        while count(total_messages) < TRAINEES:
            assert all(s.poll() is None for s in schedulers), logs[0].read_text()
            assert time.monotonic() < deadline, "the invitations were not created"
            time.sleep(0.2)
        senders = [start("mail", "send") for _ in range(3)]
        deadline = time.monotonic() + 600
        while count(sent) < TRAINEES:
            assert time.monotonic() < deadline, f"only {count(sent)} sent"
            time.sleep(0.5)
        for sender in senders:
            sender.wait(120)
    finally:
        for process in schedulers + senders:
            process.terminate()
        for process in schedulers + senders:
            process.wait(30)
    outputs = [log.read_text() for log in logs[2:]]
    assert all(s.returncode == 0 for s in senders), outputs
    received = fake_sendgrid.count_by_invitation()
    assert len(received) == TRAINEES
    assert set(received.values()) == {1}, "an invitation was sent twice"
    assert fake_sendgrid.refused_count == 0
    # The senders shared the work (each printed how many it sent).
    working = [out for out in outputs if "envoyés" in out]
    assert len(working) >= 2, outputs
    assert count(sa.select(sa.func.count()).select_from(Invitation)) == TRAINEES
    # Both schedulers fired the creation tick at start; one run did all the work.
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.job == "create_invitations")).all()
    assert [r.summary.get("invitations") for r in runs if r.summary.get("invitations")] == [
        TRAINEES]
