"""Recording an answer: once per invitation, anonymous, with what it closes.

The receipt (invitation → "answered") is inserted first, in a savepoint: its primary
key is the guarantee of one answer per invitation, whatever the number of concurrent
submissions — the database refuses the second one, which then sees the thank-you
page. The answer itself carries the session, never the trainee.
"""

from __future__ import annotations

import decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage
from avis.surveys.forms import AnswerForm, FollowUpForm
from avis.surveys.models.answers import (
    DIMENSIONS,
    Answer,
    AnswerReceipt,
    ContractType,
    FollowUpAnswer,
    JobRelation,
    Situation,
    TimeToJob,
)
from avis.surveys.models.invitations import Invitation, InvitationStatus


def overall_mark(ratings: list[int]) -> decimal.Decimal:
    """The mean of the five marks, exact (a fifth of a whole number has one decimal)."""
    return decimal.Decimal(sum(ratings)) / decimal.Decimal(len(ratings))


def record_answer(invitation: Invitation, form: AnswerForm) -> bool:
    """Store the end-of-training answer; False when the invitation was already answered.

    Flushes; the caller commits.
    """
    if not _take_receipt(invitation, accepts_contact=bool(form.accepts_contact.data)):
        return False
    ratings = {name: int(getattr(form, name).data) for name in DIMENSIONS}
    db.session.add(Answer(
        **_where(invitation), **ratings,
        overall=overall_mark(list(ratings.values())),
        would_recommend=form.would_recommend.data == "yes",
        comment_title=form.comment_title.data,
        comment_text=form.comment_text.data,
        comment_public=bool(form.comment_public.data) and bool(form.comment_text.data),
        answered_on=clock.today(),
    ))
    _close(invitation)
    return True


def record_follow_up(invitation: Invitation, form: FollowUpForm) -> bool:
    """Store the 6-month answer; False when the invitation was already answered."""
    if not _take_receipt(invitation, accepts_contact=False):
        return False
    employed = form.situation.data == Situation.employed.value
    db.session.add(FollowUpAnswer(
        **_where(invitation),
        situation=Situation(form.situation.data),
        # Job details only mean something for someone in work.
        contract_type=ContractType(form.contract_type.data)
        if employed and form.contract_type.data else None,
        job_related=JobRelation(form.job_related.data)
        if employed and form.job_related.data else None,
        time_to_job=TimeToJob(form.time_to_job.data)
        if employed and form.time_to_job.data else None,
        comment_text=form.comment_text.data,
        answered_on=clock.today(),
    ))
    _close(invitation)
    return True


def _take_receipt(invitation: Invitation, *, accepts_contact: bool) -> bool:
    try:
        with db.session.begin_nested():
            db.session.add(AnswerReceipt(invitation_id=invitation.id,
                                         answered_dt=clock.now(),
                                         accepts_contact=accepts_contact))
    except IntegrityError:
        return False
    return True


def _where(invitation: Invitation) -> dict[str, Any]:
    """The session, action, course and body of the invitation, as the answer records them."""
    row = db.session.execute(
        sa.select(Session.id, Action.id, Action.course_id, Action.training_body_id)
        .select_from(Enrolment)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .where(Enrolment.id == invitation.enrolment_id)
    ).one()
    return {"session_id": row[0], "action_id": row[1], "course_id": row[2],
            "training_body_id": row[3]}


def _close(invitation: Invitation) -> None:
    """The invitation is answered; its reminders not yet sent are cancelled."""
    now = clock.now()
    invitation.move_to(InvitationStatus.answered, now)
    invitation.answered_dt = now
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.invitation_id == invitation.id,
               OutboxMessage.status.in_([MessageStatus.queued, MessageStatus.unknown]))
        .values(status=MessageStatus.cancelled, last_error="answered")
        .execution_options(synchronize_session=False))
    db.session.flush()
