"""What a trainee's links do: find the invitation behind a token, open it, unsubscribe.

Functions flush at most; the view commits. Nothing here logs a token or an address.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from avis import clock
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import is_suppressed, suppress
from avis.surveys import tokens
from avis.surveys.models.invitations import (
    Invitation,
    InvitationKind,
    InvitationStatus,
    InvitationToken,
)

#: Longer than any token we mint (43 characters); anything longer is not worth hashing.
MAX_TOKEN_LENGTH = 128


class LinkState(enum.StrEnum):
    #: the trainee may open the questionnaire
    open = "open"
    #: the trainee already answered
    answered = "answered"
    #: the link's lifetime is over
    expired = "expired"
    #: the invitation was closed for another reason (bounce, complaint, failure)
    closed = "closed"


@dataclass(frozen=True)
class LinkContext:
    """What the pages reached from an email show about the invitation."""

    kind: InvitationKind
    first_name: str | None
    #: the address with most of its local part hidden ("l…@example.org")
    masked_email: str
    #: the address gets no more email from us (any reason)
    is_suppressed: bool
    course_title: str
    body_name: str
    start_date: dt.date
    end_date: dt.date
    city: str


def find_invitation(token: str) -> Invitation | None:
    """The invitation a survey or unsubscribe token belongs to, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    query = (
        sa.select(Invitation)
        .join(InvitationToken, InvitationToken.invitation_id == Invitation.id)
        .where(InvitationToken.digest == tokens.digest(token))
        # Bulk updates (suppressions, jobs) bypass the identity map: read the row afresh.
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def get_invitation(invitation_id: int) -> Invitation | None:
    """The invitation whose id the browser session holds, read afresh."""
    return db.session.get(Invitation, invitation_id, populate_existing=True)


def link_state(invitation: Invitation) -> LinkState:
    """Whether the survey link still leads to the questionnaire.

    An answer wins over expiry: the trainee who answered sees a thank-you page, even
    once the link's lifetime is over.
    """
    if invitation.status == InvitationStatus.answered or invitation.answered_dt is not None:
        return LinkState.answered
    if invitation.status == InvitationStatus.expired or invitation.expires_dt <= clock.now():
        return LinkState.expired
    # Bounced, complained and failed invitations are final: they can never take an answer.
    if not invitation.can_move_to(InvitationStatus.answered):
        return LinkState.closed
    return LinkState.open


def open_link(invitation: Invitation) -> bool:
    """Record the trainee's first visit of the survey link (``clicked_dt``).

    One conditional UPDATE, so that two visits at once keep a single, first time.
    Returns True when this visit was the first. The caller commits.
    """
    now = clock.now()
    result = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.clicked_dt.is_(None))
        .values(clicked_dt=now)
        .execution_options(synchronize_session=False))
    first = bool(result.rowcount)
    if first:
        # Keep the loaded object truthful for the rest of the request, without a second write.
        set_committed_value(invitation, "clicked_dt", now)
    return first


def unsubscribe(invitation: Invitation) -> bool:
    """Suppress the invitation's address: no more email of any kind to it.

    Every open invitation of the trainee becomes ``unsubscribed`` and its queued emails
    are cancelled (see ``avis.mail.suppressions.suppress``). Works whatever the
    invitation's own state (expired, answered…). Returns False when the address was
    already suppressed. Flushes; the caller commits.
    """
    email = _email_of(invitation)
    if email is None:
        return False
    newly = suppress(email, SuppressionReason.unsubscribe)
    db.session.flush()
    # ``suppress`` updates rows in bulk: reload the invitation the view may still show.
    db.session.refresh(invitation)
    return newly


def link_context(invitation: Invitation, *, with_suppression: bool = True) -> LinkContext:
    """The course, body, dates and place the invitation is about (and, unless told
    otherwise, whether the address is suppressed: only the unsubscribe page asks)."""
    row = db.session.execute(
        sa.select(Trainee.first_name, Trainee.email, Course.title, TrainingBody.name,
                  Session.start_date, Session.end_date, Session.city)
        .select_from(Enrolment)
        .join(Trainee, Trainee.id == Enrolment.trainee_id)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .join(Course, Course.id == Action.course_id)
        .join(TrainingBody, TrainingBody.id == Action.training_body_id)
        .where(Enrolment.id == invitation.enrolment_id)
    ).one()
    first_name, email, title, body_name, start_date, end_date, city = row
    return LinkContext(
        kind=invitation.kind, first_name=first_name, masked_email=mask_email(email),
        is_suppressed=with_suppression and is_suppressed(email), course_title=title,
        body_name=body_name,
        start_date=start_date, end_date=end_date, city=city)


def mask_email(email: str) -> str:
    """Enough of an address for its owner to recognise it, not enough to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


def _email_of(invitation: Invitation) -> str | None:
    return db.session.scalar(
        sa.select(Trainee.email)
        .join(Enrolment, Enrolment.trainee_id == Trainee.id)
        .where(Enrolment.id == invitation.enrolment_id))
