"""Who gets which email when: the jobs driven through run-due with a moving clock,
mail written by the real file backend."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage, SuppressionReason
from avis.mail.suppressions import suppress
from avis.scheduler.runner import run_due
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus
from tests.surveys.fixtures import create_session, enrol

END = dt.date(2026, 3, 10)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def run_at(moment: dt.datetime) -> dict[str, dict[str, object]]:
    with clock.frozen_at(moment):
        return {r.job: {"outcome": r.outcome, **r.summary} for r in run_due(moment)}


def mailbox(instance_path: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every email written, oldest first."""
    folder = instance_path / "mailbox"
    if not folder.exists():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        messages.append((message["To"].addresses[0].addr_spec, str(message["Subject"])))
    return messages


@pytest.fixture
def trainee(app_context: None) -> str:
    session = create_session(END)
    enrol(session, "lea@example.org")
    db.session.commit()
    return "lea@example.org"


def invitation(kind: InvitationKind = InvitationKind.end_of_training) -> Invitation:
    db.session.expire_all()
    return db.session.scalars(sa.select(Invitation).where(Invitation.kind == kind)).one()


def test_nothing_before_the_delay_then_the_first_email(
        trainee: str, instance_path: Path) -> None:
    run_at(at("2026-03-10T23:30:00+01:00"))  # still the end day in France
    assert mailbox(instance_path) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0

    results = run_at(at("2026-03-11T08:00:00+01:00"))
    assert results["create_invitations"]["invitations"] == 1
    assert results["dispatch_outbox"]["sent"] == 1
    assert [to for to, _ in mailbox(instance_path)] == [trainee]
    sent = invitation()
    assert sent.status == InvitationStatus.sent
    assert sent.first_sent_dt == at("2026-03-11T08:00:00+01:00")
    assert sent.expires_dt == at("2026-03-11T08:00:00+01:00") + dt.timedelta(days=90)


def test_run_due_twice_at_the_same_instant_sends_nothing_new(
        trainee: str, instance_path: Path) -> None:
    moment = at("2026-03-11T08:00:00+01:00")
    run_at(moment)
    again = run_at(moment)
    assert {r["outcome"] for r in again.values()} == {"skipped"}
    # Half an hour later: the hourly jobs are skipped, the dispatch finds nothing.
    later = run_at(moment + dt.timedelta(minutes=30))
    assert later["create_invitations"]["outcome"] == "skipped"
    assert later["dispatch_outbox"] == {"outcome": "done"}
    assert len(mailbox(instance_path)) == 1


def test_each_reminder_on_its_day_and_never_twice(trainee: str, instance_path: Path) -> None:
    first = at("2026-03-11T08:00:00+01:00")
    run_at(first)
    run_at(first + dt.timedelta(days=5) - dt.timedelta(hours=1))
    assert len(mailbox(instance_path)) == 1
    results = run_at(first + dt.timedelta(days=5))
    assert results["queue_reminders"]["reminder_1"] == 1
    assert len(mailbox(instance_path)) == 2
    run_at(first + dt.timedelta(days=6))
    run_at(first + dt.timedelta(days=12) - dt.timedelta(hours=1))
    assert len(mailbox(instance_path)) == 2
    run_at(first + dt.timedelta(days=12))
    run_at(first + dt.timedelta(days=40))
    messages = mailbox(instance_path)
    assert [to for to, _ in messages] == [trainee] * 3
    assert invitation().reminders_queued == 2
    sequences = db.session.scalars(sa.select(OutboxMessage.sequence)
                                   .order_by(OutboxMessage.sequence)).all()
    assert sequences == [0, 1, 2]


def test_a_late_scheduler_sends_one_reminder_not_two(trainee: str, instance_path: Path) -> None:
    first = at("2026-03-11T08:00:00+01:00")
    run_at(first)
    run_at(first + dt.timedelta(days=13))  # the scheduler was down from day 1 to day 13
    assert len(mailbox(instance_path)) == 2
    run_at(first + dt.timedelta(days=13, hours=1))
    assert len(mailbox(instance_path)) == 2  # the second one waits for its gap
    run_at(first + dt.timedelta(days=20))
    assert len(mailbox(instance_path)) == 3


def test_no_reminder_after_an_answer(trainee: str, instance_path: Path) -> None:
    first = at("2026-03-11T08:00:00+01:00")
    run_at(first)
    answered = invitation()
    answered.move_to(InvitationStatus.answered)
    db.session.commit()
    run_at(first + dt.timedelta(days=5))
    run_at(first + dt.timedelta(days=12))
    assert len(mailbox(instance_path)) == 1


def test_no_reminder_to_a_suppressed_address(trainee: str, instance_path: Path) -> None:
    first = at("2026-03-11T08:00:00+01:00")
    run_at(first)
    with clock.frozen_at(first + dt.timedelta(days=1)):
        suppress(trainee, SuppressionReason.bounce)
        db.session.commit()
    run_at(first + dt.timedelta(days=5))
    run_at(first + dt.timedelta(days=12))
    assert len(mailbox(instance_path)) == 1
    assert invitation().status == InvitationStatus.bounced


def test_suppressed_between_queue_and_send_is_cancelled(
        trainee: str, instance_path: Path, app: Flask) -> None:
    from avis.surveys.jobs import create_end_of_training_invitations

    with clock.frozen_at(at("2026-03-11T08:00:00+01:00")):
        create_end_of_training_invitations()
        # A suppression (from another invitation's bounce, say) lands before the send.
        from avis.mail.models import Suppression
        from avis.mail.suppressions import digest

        db.session.add(Suppression(email_digest=digest(trainee),
                                   reason=SuppressionReason.unsubscribe))
        db.session.commit()
        from avis.mail.dispatch import dispatch

        assert dispatch() == {"cancelled": 1}
    assert mailbox(instance_path) == []


def test_expiry_closes_the_invitation_and_stops_reminders(
        app: Flask, trainee: str, instance_path: Path) -> None:
    app.config["INVITATION_TTL_DAYS"] = 10
    app.config["REMINDER_DELAYS_DAYS"] = (5, 12)
    first = at("2026-03-11T08:00:00+01:00")
    run_at(first)
    run_at(first + dt.timedelta(days=5))
    results = run_at(first + dt.timedelta(days=12))
    assert results["expire_invitations"]["expired"] == 1
    assert len(mailbox(instance_path)) == 2
    assert invitation().status == InvitationStatus.expired


def test_follow_up_six_months_after_the_end(trainee: str, instance_path: Path) -> None:
    run_at(at("2026-03-11T08:00:00+01:00"))
    run_at(at("2026-09-09T12:00:00+02:00"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)
                             .where(Invitation.kind == InvitationKind.follow_up)) == 0
    results = run_at(at("2026-09-10T08:00:00+02:00"))
    assert results["create_follow_ups"]["invitations"] == 1
    follow_up = invitation(InvitationKind.follow_up)
    assert follow_up.status == InvitationStatus.sent
    templates = Counter(db.session.scalars(sa.select(OutboxMessage.template)
                                           .where(OutboxMessage.status == MessageStatus.sent)))
    assert templates["follow_up"] == 1


def test_no_follow_up_after_unsubscribing(trainee: str, instance_path: Path) -> None:
    run_at(at("2026-03-11T08:00:00+01:00"))
    with clock.frozen_at(at("2026-04-01T08:00:00+02:00")):
        suppress(trainee, SuppressionReason.unsubscribe)
        db.session.commit()
    run_at(at("2026-09-10T08:00:00+02:00"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)
                             .where(Invitation.kind == InvitationKind.follow_up)) == 0


def test_old_sessions_are_not_surveyed_years_later(app_context: None,
                                                   instance_path: Path) -> None:
    enrol(create_session(dt.date(2024, 1, 15)))
    enrol(create_session(dt.date(2026, 3, 1)))
    db.session.commit()
    results = run_at(at("2026-03-11T08:00:00+01:00"))
    assert results["create_invitations"]["invitations"] == 1


def test_small_sessions_are_invited_too(app_context: None, instance_path: Path) -> None:
    session = create_session(END)
    enrol(session)
    enrol(session)
    db.session.commit()
    results = run_at(at("2026-03-11T08:00:00+01:00"))
    assert results["create_invitations"]["invitations"] == 2


def test_cli_run_due_with_now(runner, trainee: str, instance_path: Path) -> None:
    result = runner.invoke(args=["jobs", "run-due", "--now", "2026-03-11T08:00:00+01:00"])
    assert result.exit_code == 0, result.output
    assert "create_invitations : invitations 1" in result.output
    assert len(mailbox(instance_path)) == 1
    again = runner.invoke(args=["jobs", "run-due", "--now", "2026-03-11T08:00:00+01:00"])
    assert "déjà fait" in again.output
    assert len(mailbox(instance_path)) == 1
    bad = runner.invoke(args=["jobs", "run-due", "--now", "hier"])
    assert bad.exit_code == 2
    assert "n’est pas une date ISO 8601" in bad.output
