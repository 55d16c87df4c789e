"""The daily ``moderation_backlog`` job: an email queued to each active moderator whose
scope has an item waiting longer than ``MODERATION_DELAY_HOURS``, once a Paris day."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts import operations as account_operations
from avis.accounts.models import Account, AccountMail, AccountMessage, Role
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import suppress
from avis.moderation import operations
from avis.moderation.statistics import email_backlog
from avis.scheduler.jobs import BY_ID, DAY
from avis.scheduler.runner import run_job
from tests.accounts.fixtures import create_account
from tests.moderation.test_statistics import NOW, History, build_history


@pytest.fixture
def history(app: Flask) -> History:
    """The statistics' history, with région 53's waiting comment decided: région 53 has
    nothing overdue, région 52 a comment, a reply and a report."""
    with app.app_context():
        history = build_history()
        with clock.frozen_at(NOW):
            operations.publish(history.elsewhere, "neutral", by=history.moderator_53)
        db.session.commit()
    return history


def run(app: Flask, moment: dt.datetime) -> dict[str, int]:
    with app.app_context(), clock.frozen_at(moment):
        return email_backlog()


def recipients(app: Flask) -> list[tuple[int, dt.datetime]]:
    """(account, queued at) of every backlog email."""
    with app.app_context():
        return [(account_id, created.astimezone(dt.UTC)) for account_id, created in
                db.session.execute(sa.select(AccountMessage.account_id,
                                             AccountMessage.created_dt)
                                   .where(AccountMessage.kind == AccountMail.moderation_backlog)
                                   .order_by(AccountMessage.id))]


def test_moderators_with_overdue_items_once_a_paris_day(app: Flask, history: History) -> None:
    told = sorted([history.moderator.id, history.second.id, history.national.id])

    assert run(app, NOW) == {"queued": 3, "nothing_overdue": 1}
    assert sorted(account for account, _ in recipients(app)) == told
    # The same day again (23:30 in Paris): nothing more.
    assert run(app, dt.datetime(2026, 3, 18, 22, 30, tzinfo=dt.UTC)) == {
        "queued": 0, "nothing_overdue": 1}
    # 00:30 in Paris the next day: again.
    next_day = dt.datetime(2026, 3, 18, 23, 30, tzinfo=dt.UTC)
    assert run(app, next_day) == {"queued": 3, "nothing_overdue": 1}
    assert sorted(account for account, at in recipients(app) if at == next_day) == told


def test_never_to_disabled_invited_or_suppressed_moderators_nor_admins(
        app: Flask, history: History) -> None:
    with app.app_context():
        disabled = create_account(Role.moderator, region="52")
        account_operations.disable(db.session.get(Account, disabled.id), by=None,
                                   actor_role="cli")
        create_account(Role.moderator, region="52", password=None)  # invited
        suppressed = create_account(Role.moderator)
        suppress(suppressed.email, SuppressionReason.bounce)
        create_account(Role.admin)
        db.session.commit()

    assert run(app, NOW)["queued"] == 3
    assert sorted(account for account, _ in recipients(app)) == sorted(
        [history.moderator.id, history.second.id, history.national.id])


def test_items_not_yet_overdue_tell_nobody(app: Flask, history: History) -> None:
    app.config["MODERATION_DELAY_HOURS"] = 24 * 6

    # c4 answered on 13 March, five days ago; nothing else has waited six days.
    assert run(app, NOW) == {"queued": 0, "nothing_overdue": 4}

    app.config["MODERATION_DELAY_HOURS"] = 24 * 4
    assert run(app, NOW) == {"queued": 3, "nothing_overdue": 1}


def test_a_region_without_moderation_waiting_tells_nobody(app: Flask) -> None:
    with app.app_context():
        create_account(Role.moderator, region="52")

    assert run(app, NOW) == {"queued": 0, "nothing_overdue": 1}
    assert recipients(app) == []


def test_the_scheduler_runs_it_daily(app: Flask, history: History) -> None:
    job = BY_ID["moderation_backlog"]

    with app.app_context(), clock.frozen_at(NOW):
        first = run_job(job, NOW)
        again = run_job(job, NOW)

    assert job.every == DAY
    assert (first.outcome, first.summary) == ("done", {"queued": 3, "nothing_overdue": 1})
    assert again.outcome == "skipped"
    assert len(recipients(app)) == 3
