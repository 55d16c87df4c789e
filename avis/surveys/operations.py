"""What a trainee's links do: find the invitation behind a token, open it, unsubscribe.

Functions flush at most; the view commits. Nothing here logs a token or an address.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

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
    TRANSITIONS,
    Invitation,
    InvitationKind,
    InvitationStatus,
    InvitationToken,
)

#: Longer than any token we mint (43 characters); anything longer is not worth hashing.
MAX_TOKEN_LENGTH = 128
#: The statuses of an invitation that may still take an answer (``link_state`` says
#: "open" for them, unless the link's lifetime is over or an answer was recorded).
ANSWERABLE_STATUSES = frozenset(
    status for status, following in TRANSITIONS.items()
    if InvitationStatus.answered in following and status != InvitationStatus.expired)


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


def open_survey_link(token: str) -> int | None:
    """The id of the invitation of a survey link that still opens the questionnaire, with
    its first visit recorded (``clicked_dt``); None when the link is unknown or no longer
    opens it (``find_invitation`` and ``link_state`` then tell which page to show).

    One UPDATE … RETURNING instead of a read and a write: the conditions are those of
    ``link_state``'s "open", and ``coalesce`` keeps the first visit's time when two
    visits race. The caller commits.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        _OPEN_SURVEY_LINK, {"digest": tokens.digest(token), "now": clock.now()})


def get_invitation_with_context(invitation_id: int) -> tuple[Invitation, LinkContext] | None:
    """The invitation whose id the browser session holds, read afresh, with what the
    questionnaire shows about it (no suppression check): one statement."""
    row = db.session.execute(_INVITATION_WITH_CONTEXT, {"invitation_id": invitation_id}).first()
    if row is None:
        return None
    invitation, *columns = row
    return invitation, _context(invitation, *columns, with_suppression=False)


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
        _context_query().where(Enrolment.id == invitation.enrolment_id)).one()
    return _context(invitation, *row, with_suppression=with_suppression)


def _context_query(*first: type[Invitation]) -> sa.Select[Any]:
    """The columns of a ``LinkContext``, after ``first``, from an enrolment."""
    return (
        sa.select(*first, Trainee.first_name, Trainee.email, Course.title, TrainingBody.name,
                  Session.start_date, Session.end_date, Session.city)
        .select_from(Enrolment)
        .join(Trainee, Trainee.id == Enrolment.trainee_id)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .join(Course, Course.id == Action.course_id)
        .join(TrainingBody, TrainingBody.id == Action.training_body_id)
    )


# The statements of every questionnaire request, built once: building them anew is a
# good part of their cost in Python (their compiled SQL is cached either way).
_now = sa.bindparam("now", type_=Invitation.expires_dt.type)
_invitations = Invitation.__table__
# On the table rather than the model: only the id is needed, and the ORM's bulk UPDATE
# machinery costs more than the statement. Identity-map objects are not refreshed: the
# request holds none yet.
_OPEN_SURVEY_LINK = (
    _invitations.update()
    .where(_invitations.c.id == sa.select(InvitationToken.invitation_id)
           .where(InvitationToken.digest == sa.bindparam("digest")).scalar_subquery(),
           _invitations.c.status.in_(sorted(ANSWERABLE_STATUSES)),
           _invitations.c.answered_dt.is_(None),
           _invitations.c.expires_dt > _now)
    .values(clicked_dt=sa.func.coalesce(_invitations.c.clicked_dt, _now))
    .returning(_invitations.c.id)
)
_INVITATION_WITH_CONTEXT = (
    _context_query(Invitation)
    .join(Invitation, Invitation.enrolment_id == Enrolment.id)
    .where(Invitation.id == sa.bindparam("invitation_id"))
    .execution_options(populate_existing=True)
)


def _context(invitation: Invitation, first_name: str | None, email: str, title: str,
             body_name: str, start_date: dt.date, end_date: dt.date, city: str, *,
             with_suppression: bool) -> LinkContext:
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
