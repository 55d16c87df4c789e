"""Recording an answer: once per invitation, anonymous, with what it closes.

The receipt (invitation → "answered") is inserted first, in a savepoint: its primary
key is the guarantee of one answer per invitation, whatever the number of concurrent
submissions — the database refuses the second one, which then sees the thank-you
page. The answer itself carries the session, never the trainee.
"""

from __future__ import annotations

import decimal
import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db, insert_skipping_conflicts
from avis.mail.models import MessageStatus, OutboxMessage
from avis.moderation import prescreen
from avis.surveys.forms import AnswerForm, FollowUpForm
from avis.surveys.models.answers import (
    DIMENSIONS,
    Answer,
    AnswerReceipt,
    CommentStatus,
    ContractType,
    FollowUpAnswer,
    JobRelation,
    Situation,
    TimeToJob,
)
from avis.surveys.models.invitations import InvalidTransition, Invitation, InvitationStatus


def overall_mark(ratings: list[int]) -> decimal.Decimal:
    """The mean of the five marks, exact (a fifth of a whole number has one decimal)."""
    return decimal.Decimal(sum(ratings)) / decimal.Decimal(len(ratings))


def record_answer(invitation: Invitation, form: AnswerForm) -> bool:
    """Store the end-of-training answer; False when the invitation was already answered.

    Flushes; the caller commits.
    """
    ratings = {name: int(getattr(form, name).data) for name in DIMENSIONS}
    public = bool(form.comment_public.data) and bool(form.comment_text.data)
    return _record(invitation, Answer, bool(form.accepts_contact.data), {
        **ratings,
        "overall": overall_mark(list(ratings.values())),
        "would_recommend": form.would_recommend.data == "yes",
        "comment_title": form.comment_title.data,
        "comment_text": form.comment_text.data,
        "comment_public": public,
        "comment_status": CommentStatus.pending if public else None,
        # Screened as it is saved: the moderation queue filters on the flags.
        "flags": prescreen.screen(form.comment_text.data, form.comment_title.data).bits
        if public else None,
        "answered_on": clock.today(),
    })


def record_follow_up(invitation: Invitation, form: FollowUpForm) -> bool:
    """Store the 6-month answer; False when the invitation was already answered."""
    employed = form.situation.data == Situation.employed.value
    return _record(invitation, FollowUpAnswer, False, {
        "situation": Situation(form.situation.data),
        # Job details only mean something for someone in work.
        "contract_type": ContractType(form.contract_type.data)
        if employed and form.contract_type.data else None,
        "job_related": JobRelation(form.job_related.data)
        if employed and form.job_related.data else None,
        "time_to_job": TimeToJob(form.time_to_job.data)
        if employed and form.time_to_job.data else None,
        "comment_text": form.comment_text.data,
        "answered_on": clock.today(),
    })


def _record(invitation: Invitation, model: type[Answer] | type[FollowUpAnswer],
            accepts_contact: bool, values: dict[str, Any]) -> bool:
    """Receipt, answer, invitation closed, reminders cancelled; False (and nothing
    written) when the invitation already had its answer."""
    if invitation.status == InvitationStatus.answered:
        return False
    if not invitation.can_move_to(InvitationStatus.answered):
        # What ``Invitation.move_to`` would refuse: the caller checked the link first.
        raise InvalidTransition(
            f"invitation {invitation.id}: {invitation.status} → {InvitationStatus.answered}")
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite has no INSERT or UPDATE inside WITH: one statement after the other.
        if not _take_receipt(invitation, accepts_contact=accepts_contact):
            return False
        _insert_about(invitation, model, values)
        _close(invitation)
        return True
    now = clock.now()
    # Anything the ORM still holds for the invitation goes first: the statement below
    # writes the row behind its back.
    db.session.flush()
    recorded = db.session.execute(_record_statement(model, tuple(values)), {
        # Names of no column: in an UPDATE, a parameter named as a column is also set.
        "the_invitation": invitation.id, "the_enrolment": invitation.enrolment_id,
        "the_moment": now, "the_contact": accepts_contact,
        **{f"v_{name}": value for name, value in values.items()}}).scalar()
    if not recorded:
        return False
    # What the statement wrote, as the session's copy of the row, without another write.
    for name, value in (("status", InvitationStatus.answered), ("status_dt", now),
                        ("answered_dt", now)):
        set_committed_value(invitation, name, value)
    return True


@functools.cache
def _record_statement(model: type[Answer] | type[FollowUpAnswer],
                      names: tuple[str, ...]) -> sa.Select[Any]:
    """One statement for the whole answer, PostgreSQL only: the receipt's insert, and
    then, only if it inserted a row, the answer's insert, the invitation's close and
    its pending reminders' cancellation. Returns 1 when recorded, 0 when the invitation
    already had its receipt.

    The receipt's primary key still makes the guarantee: a concurrent submission's
    ``ON CONFLICT DO NOTHING`` waits for the first one's commit and inserts nothing,
    and then neither do the parts that depend on it."""
    receipts = AnswerReceipt.__table__
    receipt = (
        postgresql.insert(receipts)
        .values(invitation_id=sa.bindparam("the_invitation"),
                answered_dt=sa.bindparam("the_moment", type_=receipts.c.answered_dt.type),
                accepts_contact=sa.bindparam("the_contact"))
        .on_conflict_do_nothing()
        .returning(receipts.c.invitation_id)
        .cte("receipt"))
    table = model.__table__
    place = (
        sa.select(Session.id, Action.id, Action.course_id, Action.training_body_id,
                  *(sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in names))
        .select_from(receipt)
        .join(Enrolment, Enrolment.id == sa.bindparam("the_enrolment"))
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
    )
    answer = (table.insert()
              .from_select(["session_id", "action_id", "course_id", "training_body_id",
                            *names], place)
              .returning(table.c.id).cte("answer"))
    invitations = Invitation.__table__
    now = sa.bindparam("the_moment", type_=invitations.c.status_dt.type)
    closed = (invitations.update()
              .where(invitations.c.id.in_(sa.select(receipt.c.invitation_id)))
              .values(status=InvitationStatus.answered.name, status_dt=now, answered_dt=now)
              .returning(invitations.c.id).cte("closed"))
    cancelled = (_outbox.update()
                 .where(_outbox.c.invitation_id.in_(sa.select(receipt.c.invitation_id)),
                        _outbox.c.status.in_([MessageStatus.queued, MessageStatus.unknown]))
                 .values(status=MessageStatus.cancelled, last_error="answered")
                 .returning(_outbox.c.id).cte("cancelled"))
    return (sa.select(sa.func.count()).select_from(receipt)
            .add_cte(answer, closed, cancelled))


def _take_receipt(invitation: Invitation, *, accepts_contact: bool) -> bool:
    """Insert the receipt unless one exists; True when this call inserted it.

    ``ON CONFLICT DO NOTHING``: a concurrent submission waits for the first one's
    commit, then inserts nothing, in a single statement.
    """
    table = AnswerReceipt.__table__
    inserted = db.session.execute(
        insert_skipping_conflicts(table)
        .values(invitation_id=invitation.id, answered_dt=clock.now(),
                accepts_contact=accepts_contact)
        .returning(table.c.invitation_id)).first()
    return inserted is not None


def _insert_about(invitation: Invitation, model: type[Answer] | type[FollowUpAnswer],
                  values: dict[str, Any]) -> None:
    """Insert the answer with the session, action, course and body of the invitation's
    enrolment, in one INSERT … SELECT (no round trip to look them up first)."""
    db.session.execute(_insert_about_statement(model, tuple(values)), {
        "enrolment_id": invitation.enrolment_id,
        **{f"v_{name}": value for name, value in values.items()}})


@functools.cache
def _insert_about_statement(model: type[Answer] | type[FollowUpAnswer],
                            names: tuple[str, ...]) -> sa.Insert:
    # Built once per model: building it is a good part of its cost in Python.
    table = model.__table__
    place = (
        sa.select(Session.id, Action.id, Action.course_id, Action.training_body_id,
                  *(sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in names))
        .select_from(Enrolment)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .where(Enrolment.id == sa.bindparam("enrolment_id"))
    )
    return table.insert().from_select(
        ["session_id", "action_id", "course_id", "training_body_id", *names], place)


def _close(invitation: Invitation) -> None:
    """The invitation is answered; its reminders not yet sent are cancelled."""
    now = clock.now()
    invitation.move_to(InvitationStatus.answered, now)
    invitation.answered_dt = now
    db.session.execute(_CANCEL_REMINDERS, {"of_invitation": invitation.id})
    db.session.flush()


_outbox = OutboxMessage.__table__
#: Built once, like ``_insert_about_statement``; on the table rather than the model: the
#: ORM's bulk UPDATE machinery costs more than the statement, and no message is loaded.
_CANCEL_REMINDERS = (
    _outbox.update()
    .where(_outbox.c.invitation_id == sa.bindparam("of_invitation"),
           _outbox.c.status.in_([MessageStatus.queued, MessageStatus.unknown]))
    .values(status=MessageStatus.cancelled, last_error="answered")
)
