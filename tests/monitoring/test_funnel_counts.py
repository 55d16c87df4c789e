"""The funnel's counts table: every row equal to pandas counting the raw rows, after a
full rebuild and after rounds of incremental refreshes."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from avis import clock
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring.funnel import SAFETY_MARGIN, rebuild, refresh
from avis.monitoring.models.funnel import FunnelBodyCount, FunnelCount, FunnelRun
from avis.scheduler.jobs import BY_ID
from avis.surveys.models.answers import Answer, ExclusionReason
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus
from tests.catalog.fixtures import make_siret
from tests.monitoring.funnel_data import CAMPAIGNS, World, assert_table_matches, table_rows

S = InvitationStatus


@pytest.fixture
def world(app_context: None) -> World:
    built = World(random.Random(20261206))
    db.session.commit()
    return built


def test_rebuild_matches_pandas(world: World) -> None:
    counts = rebuild()
    assert counts["rows"] > 0
    assert_table_matches()
    frame = table_rows()
    # The world has something of everything, or the comparison proves little.
    for column in ("bounced", "complained", "expired", "failed", "unsubscribed", "clicked",
                   "answers", "follow_ups", "employed"):
        assert frame[column].sum() > 0, column
    assert frame["funders"].map(len).max() > 1


def test_steps_hold_one_another(world: World) -> None:
    rebuild()
    frame = table_rows()
    steps = ["invited", "sent", "delivered", "opened", "clicked", "answered"]
    for higher, lower in itertools.pairwise(steps):
        assert (frame[higher] >= frame[lower]).all(), (higher, lower)
    ends = frame[frame["kind"] == InvitationKind.end_of_training.value]
    assert (ends["enrolled"] >= ends["invited"]).all()
    assert (frame[frame["kind"] == InvitationKind.follow_up.value]["enrolled"] == 0).all()


def test_the_steps_of_out_of_order_events(app_context: None) -> None:
    """One invitation per case, each in its own session: a click on an email never seen
    delivered counts as delivered and opened; a bounce after delivery is not delivered;
    a spam complaint is delivered; an expired email delivered late counts as delivered."""
    built = World(random.Random(1), bodies=1, sessions=0)
    cases = {
        "clicked_only": dict(status=S.sent, clicked_dt=clock.now()),
        "bounced_after_delivery": dict(status=S.bounced, delivered_dt=clock.now()),
        "complained": dict(status=S.complained),
        "expired_delivered": dict(status=S.expired, delivered_dt=clock.now()),
        "failed": dict(status=S.failed, first_sent_dt=None),
    }
    expected = {
        "clicked_only": dict(sent=1, delivered=1, opened=1, clicked=1, answered=0),
        "bounced_after_delivery": dict(sent=1, delivered=0, bounced=1),
        "complained": dict(sent=1, delivered=1, opened=0, complained=1),
        "expired_delivered": dict(sent=1, delivered=1, opened=0, expired=1),
        "failed": dict(sent=0, delivered=0, failed=1),
    }
    sessions = {}
    for name, values in cases.items():
        session = built.add_session()
        enrolment = built.enrol(session, "c")
        now = clock.now()
        db.session.add(Invitation(enrolment_id=enrolment.id, kind=InvitationKind.end_of_training,
                                  created_dt=now, expires_dt=now, status_dt=now,
                                  **{"first_sent_dt": now, **values}))
        sessions[name] = session.id
    db.session.commit()
    rebuild()
    for name, wanted in expected.items():
        row = db.session.scalars(sa.select(FunnelCount).where(
            FunnelCount.session_id == sessions[name])).one()
        assert {key: getattr(row, key) for key in wanted} == wanted, name
    assert_table_matches()


def test_hourly_job_starts_with_a_full_rebuild(world: World) -> None:
    assert BY_ID["monitoring_counts"].func()["rows"] > 0
    assert db.session.scalars(sa.select(FunnelRun.is_full)).all() == [True]
    assert BY_ID["monitoring_counts_rebuild"].func()["rows"] > 0
    assert_table_matches()


def test_incremental_refresh_equals_a_direct_count(world: World) -> None:
    """Rounds of new enrolments and invitations, status moves, first clicks, late
    provider events on closed invitations, answers dated long ago (found by the id
    watermark only), exclusions and follow-ups; after each refresh, every row equals
    pandas; at the end the table is the one a rebuild writes."""
    rng = world.rng
    rebuild()
    start = clock.now()
    for round_ in range(6):
        with clock.frozen_at(start + dt.timedelta(hours=round_ + 1)):
            now = clock.now()
            for _ in range(rng.randint(1, 4)):
                session = rng.choice(world.sessions)
                enrolment = world.enrol(session, rng.choice(CAMPAIGNS))
                world.invite(enrolment, InvitationKind.end_of_training)
            invitations = db.session.scalars(sa.select(Invitation).order_by(Invitation.id)).all()
            for invitation in rng.sample(invitations, 6):
                target = rng.choice(list(S))
                if invitation.can_move_to(target):
                    invitation.move_to(target)
                    if target == S.answered:
                        invitation.answered_dt = now
            for invitation in rng.sample(invitations, 3):
                if invitation.clicked_dt is None:
                    invitation.clicked_dt = now  # a first visit: the status stays
            for invitation in rng.sample(invitations, 3):
                # A provider's event, dated an hour before it arrives, on an invitation
                # whose status may not move any more.
                invitation.delivered_dt = invitation.delivered_dt or now - dt.timedelta(hours=1)
                invitation.opened_dt = invitation.opened_dt or now - dt.timedelta(hours=1)
            for _ in range(rng.randint(0, 5)):
                world.answer(rng.choice(world.sessions),
                             day=rng.choice([None, clock.today() - dt.timedelta(days=90)]))
            if rng.random() < 0.7:
                world.follow_up(rng.choice(world.sessions),
                                day=clock.today() - dt.timedelta(days=60))
            answer = db.session.scalars(sa.select(Answer).order_by(Answer.id)
                                        .offset(rng.randint(0, 5)).limit(1)).one()
            answer.excluded_reason = None if answer.excluded_reason else ExclusionReason.fraud
            answer.exclusion_changed_dt = now
            if round_ == 2:
                world.fill(world.sessions[0], 4)  # a session's second campaign
            db.session.commit()
            refresh()
        assert_table_matches()
    incremental = table_rows()
    rebuild()
    pd.testing.assert_frame_equal(incremental, table_rows())


def test_refresh_rewrites_only_touched_sessions(world: World) -> None:
    rebuild()
    later = clock.now() + 2 * SAFETY_MARGIN + dt.timedelta(hours=2)
    with clock.frozen_at(later):
        refresh()  # the changes of the margin before the rebuild, once more
    with clock.frozen_at(later + dt.timedelta(hours=1)):
        # Nothing happened since: nothing is looked at.
        assert refresh()["sessions"] == 0
        world.answer(world.sessions[3])
        db.session.commit()
    with clock.frozen_at(later + dt.timedelta(hours=2)):
        counts = refresh()
    assert counts["sessions"] == 1
    assert_table_matches()


def test_refresh_drops_sums_left_with_nothing(world: World) -> None:
    """An answer about a body that no longer gives the session (answers count with the
    body they were about) is that body's only figure: once excluded, the body's rows of
    sums are gone, not left at zero."""
    rebuild()
    other = TrainingBody(siret=make_siret(77_000_001), siren=make_siret(77_000_001)[:9],
                         name="Organisme parti")
    db.session.add(other)
    db.session.flush()
    answer = world.answer(world.sessions[2], body_id=other.id)
    answer.excluded_reason = None
    db.session.commit()

    def rows_of_other() -> list[FunnelBodyCount]:
        return list(db.session.scalars(sa.select(FunnelBodyCount).where(
            FunnelBodyCount.training_body_id == other.id)))

    later = clock.now() + dt.timedelta(hours=1)
    with clock.frozen_at(later):
        refresh()
    assert [(row.answers, row.kind) for row in rows_of_other()] == [
        (1, InvitationKind.end_of_training)]
    assert_table_matches()
    with clock.frozen_at(later + dt.timedelta(hours=1)):
        answer.excluded_reason = ExclusionReason.fraud
        answer.exclusion_changed_dt = clock.now()
        db.session.commit()
    with clock.frozen_at(later + dt.timedelta(hours=2)):
        assert refresh()["sessions"] == 1
    assert rows_of_other() == []
    assert_table_matches()
