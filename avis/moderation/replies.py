"""Training bodies' replies to reviews, moderated like comments: written by the body
(from its space, ``avis.bodies``), then published, rejected, withdrawn or undone by a
moderator. A published reply the body edits waits for moderation again; the body may
also take its reply back, waiting or published.

Same discipline as ``operations``: one conditional UPDATE per decision, a history row
and an audit event, in the caller's transaction, within the account's scope.
"""

from __future__ import annotations

import sqlalchemy as sa

from avis import clock
from avis.accounts.models import Account, Role
from avis.accounts.scope import Scope
from avis.audit.operations import record
from avis.bodies.notifications import tell_reply_decision
from avis.db import db
from avis.moderation import prescreen
from avis.moderation.models import Decision, Subject
from avis.moderation.operations import (
    ModerationError,
    NotFound,
    conflict,
    fresh,
    history,
    undoable,
)
from avis.surveys.models.answers import Answer, CommentStatus, RejectionReason, Reply

#: ANOTEA allowed 300, too short to explain what changed since; a reply still answers,
#: it does not argue.
MAX_REPLY = 1000


def write(answer_id: int, text: str, *, by: Account) -> Reply:
    """The body's reply to one of its reviews, new or edited: it waits for moderation
    (again, if it was published: what is shown must have been read)."""
    if by.role != Role.organisation:
        raise ModerationError("not_a_body")
    text = (text or "").strip()
    if not text:
        raise ModerationError("empty_text")
    if len(text) > MAX_REPLY:
        raise ModerationError("reply_too_long")
    if db.session.scalar(sa.select(Answer.id).where(
            Answer.id == answer_id, Scope.of(by).where(Answer),
            Answer.excluded_reason.is_(None))) is None:
        raise NotFound()
    reply = db.session.scalar(sa.select(Reply).where(Reply.answer_id == answer_id)
                              .with_for_update())
    now = clock.now()
    if reply is None:
        reply = Reply(answer_id=answer_id, text=text, created_dt=now)
        db.session.add(reply)
    elif reply.text == text:
        return reply
    else:
        reply.text, reply.updated_dt = text, now
    previous = str(reply.status) if reply.status else None
    reply.status, reply.rejection_reason = CommentStatus.pending, None
    reply.author_id = by.id
    reply.flags = prescreen.screen(text).bits
    db.session.flush()
    record("reply.write", object_type="reply", object_id=reply.id,
           changes={"status": previous}, actor=by)
    return reply


def take_back(answer_id: int, *, by: Account) -> None:
    """The body takes its reply to a review off, whatever its state: the reply is deleted
    (the moderation history keeps the decisions taken on it, the audit event its status)
    and the body may write another, which will be moderated like the first."""
    if by.role != Role.organisation:
        raise ModerationError("not_a_body")
    reply = db.session.scalar(sa.select(Reply).where(
        Reply.answer_id == answer_id, Scope.of(by).where(Reply)).with_for_update())
    if reply is None:
        raise NotFound()
    record("reply.take_back", object_type="reply", object_id=reply.id,
           changes={"status": str(reply.status)}, actor=by)
    db.session.delete(reply)
    db.session.flush()


def _move(reply_id: int, by: Account, *, from_status: CommentStatus,
          to_status: CommentStatus, decision: Decision, reason: str | None = None) -> None:
    """The conditional UPDATE (the first of two moderators wins), then the history."""
    scope = Scope.of(by)
    reply = fresh(Reply, reply_id, scope)
    changed = db.session.execute(
        sa.update(Reply)
        .where(Reply.id == reply_id, Reply.status == from_status, scope.where(Reply))
        .values(status=to_status, moderated_dt=clock.now(), moderated_by_id=by.id,
                rejection_reason=reason if to_status == CommentStatus.rejected else None)
        .returning(Reply.id).execution_options(synchronize_session=False)).first()
    if changed is None:
        raise conflict(reply.answer_id, db.session.scalar(
            sa.select(Reply.status).where(Reply.id == reply_id)), Subject.reply)
    history(reply.answer_id, decision, by, previous_status=str(from_status), reason=reason,
            subject=Subject.reply, object_id=reply_id)
    tell_reply_decision(reply_id)


def publish(reply_id: int, *, by: Account) -> None:
    """Show the reply next to the review (public pages, API, widget, open data)."""
    _move(reply_id, by, from_status=CommentStatus.pending, to_status=CommentStatus.published,
          decision=Decision.publish)


def reject(reply_id: int, reason: RejectionReason, *, by: Account) -> None:
    _move(reply_id, by, from_status=CommentStatus.pending, to_status=CommentStatus.rejected,
          decision=Decision.reject, reason=RejectionReason(reason))


def withdraw(reply_id: int, reason: RejectionReason, *, by: Account) -> None:
    """Take a published reply off again, with a reason."""
    _move(reply_id, by, from_status=CommentStatus.published, to_status=CommentStatus.rejected,
          decision=Decision.withdraw, reason=RejectionReason(reason))


def undo(reply_id: int, *, by: Account) -> None:
    """Take back the reply's last decision of today: it waits again (a withdrawal is
    undone to published)."""
    reply = fresh(Reply, reply_id, Scope.of(by))
    last = undoable(reply.answer_id, Subject.reply)
    back = CommentStatus.published if last.decision == Decision.withdraw \
        else CommentStatus.pending
    _move(reply_id, by, from_status=CommentStatus(reply.status), to_status=back,
          decision=Decision.undo, reason=str(last.decision))
