"""``refresh`` after each kind of change equals a full recomputation, number for number.

Every change goes through the code that makes it in production (the questionnaire's
recording, moderation, erasure, the dispatcher, the provider's webhook), an hour or so
after a full run; the refresh then runs, and its table is compared with a full
recomputation's (same priors). The world is dated three hours before that run: nothing
of it is recent enough for the refresh's look-back, only what the change touched.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import MultiDict

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.mail.dispatch import dispatch
from avis.mail.events import INVITATION_ARG, apply_events
from avis.mail.models import MessageStatus, OutboxMessage
from avis.moderation import operations as moderation
from avis.privacy.erasure import erase_email
from avis.scores import aggregate
from avis.scores.aggregate import recompute_all, refresh
from avis.scores.models import Score, ScoreScope
from avis.surveys.answering import record_answer, record_follow_up
from avis.surveys.forms import AnswerForm, FollowUpForm
from avis.surveys.jobs import TEMPLATES
from avis.surveys.models.answers import DIMENSIONS, Answer, Situation
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus
from tests.accounts.fixtures import create_account
from tests.surveys.fixtures import create_invitation, create_session, enrol

S = InvitationStatus
#: What differs between two computations of the same numbers.
DERIVED = ("id", "computed_dt", "last_answer_id", "last_follow_up_id")
MARKS = {"welcome": "2", "content": "1", "trainers": "2", "equipment": "1", "support": "2",
         "would_recommend": "no"}


@dataclass
class World:
    """Three sessions (two regions), each with answers and invitations in every state;
    ``t0`` is the time of the full run the refresh follows."""

    t0: dt.datetime
    sessions: list[Session] = field(default_factory=list)
    #: per session, its invitations by status
    invitations: list[dict[InvitationStatus, list[Invitation]]] = field(default_factory=list)
    #: per session, its answers' ids
    answers: list[list[int]] = field(default_factory=list)


def _answer_row(session: Session, marks: tuple[int, ...]) -> Answer:
    action = db.session.get(Action, session.action_id)
    assert action is not None
    row = Answer(session_id=session.id, action_id=action.id, course_id=action.course_id,
                 training_body_id=action.training_body_id,
                 **dict(zip(DIMENSIONS, marks, strict=True)),
                 overall=decimal.Decimal(sum(marks)) / 5, would_recommend=sum(marks) > 17,
                 answered_on=clock.today())
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(app_context: None) -> World:
    t0 = clock.now().replace(microsecond=0)
    world = World(t0)
    end = clock.today() - dt.timedelta(days=12)
    with clock.frozen_at(t0 - dt.timedelta(hours=3)):
        for n, (departement, region) in enumerate((("44", "52"), ("35", "53"), ("85", "52"))):
            session = create_session(end)
            session.departement, session.region_code = departement, region
            by_status: dict[InvitationStatus, list[Invitation]] = {}
            for status in [S.answered] * (3 + n) + [S.sent] * 3 + [S.delivered, S.opened,
                                                                   S.bounced, S.pending]:
                by_status.setdefault(status, []).append(
                    create_invitation(enrol(session), status=status)[0])
            ids = [_answer_row(session, (3 + (n + k) % 3, 4, 3 + k % 3, 5, 2 + n)).id
                   for k in range(3 + n)]
            world.sessions.append(session)
            world.invitations.append(by_status)
            world.answers.append(ids)
        db.session.commit()
    return world


def snapshot() -> dict[tuple[str, str], dict[str, Any]]:
    db.session.expire_all()
    return {(r.scope.value, r.key): {c.key: getattr(r, c.key) for c in sa.inspect(Score).columns
                                     if c.key not in DERIVED}
            for r in db.session.scalars(sa.select(Score))}


def answer_form(app: Flask, data: dict[str, str], form: type[Any] = AnswerForm) -> Any:
    """The questionnaire's form as the trainee posts it (CSRF aside)."""
    with app.test_request_context(method="POST"):
        return form(formdata=MultiDict(data), meta={"csrf": False})


def email_of(invitation: Invitation) -> str:
    email = db.session.scalar(sa.select(Trainee.email).join(
        Enrolment, Enrolment.trainee_id == Trainee.id).where(
        Enrolment.id == invitation.enrolment_id))
    assert email is not None
    return email


def queue_first_email(invitation: Invitation, status: MessageStatus) -> None:
    db.session.add(OutboxMessage(
        invitation_id=invitation.id, sequence=0, status=status,
        template=TEMPLATES[InvitationKind(invitation.kind), False],
        next_attempt_dt=clock.now(), created_dt=clock.now()))


# --- the changes: (prepared before the full run, made after it) ------------------------

Step = Callable[[Flask, World], None]


def _nothing(app: Flask, world: World) -> None:
    pass


def new_answer(app: Flask, world: World) -> None:
    invitation = world.invitations[0][S.sent][0]
    assert record_answer(invitation, answer_form(app, MARKS))


def reserve_an_answer_id(app: Flask, world: World) -> None:
    """An id below the full run's watermark, free: what a transaction that took its id
    before the run, and commits after it, will write."""
    with clock.frozen_at(world.t0 - dt.timedelta(hours=2)):
        placeholder = _answer_row(world.sessions[2], (1, 1, 1, 1, 1))
        _answer_row(world.sessions[2], (4, 4, 4, 4, 4))
        world.answers.append([placeholder.id])
        db.session.delete(placeholder)


def late_answer(app: Flask, world: World) -> None:
    """Recorded 40 minutes before the full run, committed after it, with an id below its
    watermark: only its invitation's move to answered, dated then, shows it."""
    reserved = world.answers[-1][0]
    with clock.frozen_at(world.t0 - dt.timedelta(minutes=40)):
        invitation = world.invitations[1][S.opened][0]
        assert record_answer(invitation, answer_form(app, MARKS))
    recorded = db.session.scalar(sa.select(sa.func.max(Answer.id)))
    db.session.execute(sa.update(Answer).where(Answer.id == recorded).values(id=reserved))
    watermark = db.session.scalar(sa.select(sa.func.max(Score.last_answer_id)))
    assert reserved < watermark
    assert db.session.get(Answer, reserved).answered_on == (
        world.t0 - dt.timedelta(minutes=40)).astimezone(clock.PARIS).date()


def new_follow_up(app: Flask, world: World) -> None:
    enrolment_id = world.invitations[2][S.answered][0].enrolment_id
    invitation = Invitation(enrolment_id=enrolment_id, kind=InvitationKind.follow_up,
                            status=S.sent, expires_dt=clock.now() + dt.timedelta(days=30),
                            first_sent_dt=clock.now() - dt.timedelta(days=1),
                            status_dt=clock.now() - dt.timedelta(days=1))
    db.session.add(invitation)
    db.session.flush()
    assert record_follow_up(invitation, answer_form(
        app, {"situation": Situation.employed.value}, FollowUpForm))


def _moderator(app: Flask, world: World) -> Any:
    return create_account("admin")


def exclusion(app: Flask, world: World) -> None:
    moderation.exclude(world.answers[0][0], "fraud", by=_moderator(app, world))


def exclude_before(app: Flask, world: World) -> None:
    moderation.exclude(world.answers[1][1], "wrong_body", by=_moderator(app, world))


def inclusion(app: Flask, world: World) -> None:
    moderation.include(world.answers[1][1], by=_moderator(app, world))


def erasure(app: Flask, world: World) -> None:
    """Erasing a trainee who answered changes no count: the rows stay as they were."""
    assert erase_email(email_of(world.invitations[0][S.answered][0]), reason="request") == 1


def queue_first_emails(app: Flask, world: World) -> None:
    """A pending invitation, and one a provider's "delivered" moved on before its send was
    recorded (delivered, never sent: not counted as delivered), both with their first
    email due."""
    queue_first_email(world.invitations[0][S.pending][0], MessageStatus.queued)
    early = world.invitations[1][S.delivered][0]
    early.first_sent_dt = None
    queue_first_email(early, MessageStatus.queued)


def invitations_sent(app: Flask, world: World) -> None:
    assert dispatch().get("sent", 0) >= 2
    early = db.session.get(Invitation, world.invitations[1][S.delivered][0].id)
    assert early is not None
    assert early.first_sent_dt is not None
    # The send did not move its status: only its first send dates it.
    assert early.status == S.delivered
    assert early.status_dt < world.t0


def bounce(app: Flask, world: World) -> None:
    invitation = world.invitations[2][S.sent][0]
    apply_events([{"sg_event_id": "bounce-1", "event": "bounce", "type": "bounce",
                   "email": email_of(invitation), INVITATION_ARG: str(invitation.id),
                   "timestamp": int(clock.now().timestamp())}])
    assert db.session.get(Invitation, invitation.id).status == S.bounced


def send_of_unknown_outcome(app: Flask, world: World) -> None:
    """The first email's request timed out: the invitation is still pending."""
    invitation = world.invitations[1][S.pending][0]
    queue_first_email(invitation, MessageStatus.unknown)


def late_provider_event(app: Flask, world: World) -> None:
    """The provider says, an hour late, that it took that email two hours ago: the
    invitation was sent then, dated then."""
    invitation = world.invitations[1][S.pending][0]
    apply_events([{"sg_event_id": "processed-1", "event": "processed",
                   INVITATION_ARG: str(invitation.id),
                   "timestamp": int((world.t0 - dt.timedelta(hours=2)).timestamp())}])
    moved = db.session.get(Invitation, invitation.id)
    assert moved is not None
    assert moved.status == S.sent
    assert moved.status_dt < world.t0 - aggregate.SAFETY_MARGIN


CHANGES: dict[str, tuple[Step, Step, bool]] = {
    # name: (before the full run, after it, whether the numbers move)
    "new answer": (_nothing, new_answer, True),
    "late-committed answer": (reserve_an_answer_id, late_answer, True),
    "new follow-up": (_nothing, new_follow_up, True),
    "answer excluded": (_nothing, exclusion, True),
    "answer included again": (exclude_before, inclusion, True),
    "trainee erased": (_nothing, erasure, False),
    "invitations sent": (queue_first_emails, invitations_sent, True),
    "bounce": (_nothing, bounce, True),
    "provider's late event": (send_of_unknown_outcome, late_provider_event, True),
}


@pytest.fixture
def changed(request: pytest.FixtureRequest, app: Flask,
            world: World) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    """The table after the full run, after the refresh, and after a full run again."""
    prepare, change, _moves = CHANGES[request.param]
    with clock.frozen_at(world.t0 - dt.timedelta(hours=2)):
        prepare(app, world)
        db.session.commit()
    with clock.frozen_at(world.t0):
        recompute_all()
    before = snapshot()
    with clock.frozen_at(world.t0 + dt.timedelta(minutes=20)):
        change(app, world)
        db.session.commit()
    with clock.frozen_at(world.t0 + dt.timedelta(minutes=40)):
        refresh()
    refreshed = snapshot()
    with clock.frozen_at(world.t0 + dt.timedelta(minutes=50)):
        recompute_all(recompute_priors=False)
    return before, refreshed, snapshot()


def _differences(a: dict[Any, Any], b: dict[Any, Any]) -> dict[Any, Any]:
    return {key: {c: (a.get(key, {}).get(c), b.get(key, {}).get(c))
                  for c in (a.get(key) or b.get(key) or {})
                  if a.get(key, {}).get(c) != b.get(key, {}).get(c)}
            for key in a.keys() | b.keys() if a.get(key) != b.get(key)}


@pytest.mark.parametrize("changed", list(CHANGES), indirect=True)
def test_refresh_equals_a_full_recomputation(
        request: pytest.FixtureRequest,
        changed: tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]) -> None:
    before, refreshed, full = changed
    assert _differences(refreshed, full) == {}
    moved = _differences(before, full)
    if CHANGES[request.node.callspec.params["changed"]][2]:
        # The change counts: the session's own row, at least, moved.
        assert {scope for scope, _key in moved} >= {ScoreScope.session.value}
    else:
        assert moved == {}


def test_the_late_commit_is_found_only_within_the_look_back(
        app: Flask, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same late answer, with a look-back shorter than its 40 minutes: the refresh
    misses it (what the daily full run is for). The case above tests the margin."""
    monkeypatch.setattr(aggregate, "SAFETY_MARGIN", dt.timedelta(minutes=30))
    with clock.frozen_at(world.t0 - dt.timedelta(hours=2)):
        reserve_an_answer_id(app, world)
        db.session.commit()
    with clock.frozen_at(world.t0):
        recompute_all()
    before = snapshot()
    with clock.frozen_at(world.t0 + dt.timedelta(minutes=20)):
        late_answer(app, world)
        db.session.commit()
    with clock.frozen_at(world.t0 + dt.timedelta(minutes=40)):
        refresh()
    assert snapshot() == before
    recompute_all(recompute_priors=False)
    session = ("session", str(world.sessions[1].id))
    assert snapshot()[session]["answers_count"] == before[session]["answers_count"] + 1
