"""Moderators' decisions on comments. Each is one conditional UPDATE (the first of two
moderators deciding on the same comment wins; the second learns who decided what),
a history row and an audit event, in the caller's transaction (the caller commits).

Decisions are taken within the moderator's scope: a comment outside it is unknown.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import sqlalchemy as sa

from avis import clock
from avis.accounts.models import Account
from avis.accounts.scope import Scope
from avis.audit.operations import record
from avis.db import db
from avis.moderation import prescreen
from avis.moderation.models import Decision, ModerationEvent, Subject
from avis.surveys.models.answers import (
    Answer,
    CommentStatus,
    ExclusionReason,
    Qualification,
    RejectionReason,
)

T = TypeVar("T")

#: Longest public title and text a redaction may write (the questionnaire's limits).
MAX_TITLE = 80
MAX_TEXT = 2000


class ModerationError(ValueError):
    """A decision that cannot be taken; ``code`` names why (for the user's language)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotFound(ModerationError):
    def __init__(self) -> None:
        super().__init__("not_found")


class AlreadyDecided(ModerationError):
    """Someone decided first: what they decided, who and when."""

    def __init__(self, status: str, decision: str | None, actor_id: int | None,
                 occurred_dt: dt.datetime | None) -> None:
        super().__init__("already_decided")
        self.status = status
        self.decision = decision
        self.actor_id = actor_id
        self.occurred_dt = occurred_dt


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    # A comment to moderate is one its author agreed to publish: private comments are
    # never read by moderators either.
    return sa.and_(scope.where(Answer), Answer.comment_status.is_not(None))


def fresh(model: type[T], key: int, scope: Scope, *conditions: sa.ColumnElement[bool]) -> T:
    """The row of ``model`` with id ``key`` within the scope, read fresh from the database
    (decisions are UPDATE statements that bypass the session); ``NotFound`` otherwise."""
    found = db.session.scalar(
        sa.select(model).where(model.id == key, scope.where(model), *conditions)  # type: ignore[attr-defined]
        .execution_options(populate_existing=True))
    if found is None:
        raise NotFound()
    return found


def _answer(answer_id: int, scope: Scope) -> Answer:
    return fresh(Answer, answer_id, scope, Answer.comment_status.is_not(None))


#: The decisions that move an item between waiting, shown and not shown.
MOVES = (Decision.publish, Decision.reject, Decision.withdraw, Decision.undo, Decision.keep,
         Decision.remove)


def last_move(answer_id: int, subject: Subject,
              decisions: tuple[Decision, ...] = MOVES) -> ModerationEvent | None:
    return db.session.scalars(sa.select(ModerationEvent).where(
        ModerationEvent.answer_id == answer_id, ModerationEvent.subject == subject,
        ModerationEvent.decision.in_(decisions))
        .order_by(ModerationEvent.id.desc()).limit(1)).first()


def conflict(answer_id: int, status: object, subject: Subject = Subject.comment
             ) -> AlreadyDecided:
    """Who decided first, and what, for the moderator who came second."""
    last = last_move(answer_id, subject)
    return AlreadyDecided(status=str(status), decision=str(last.decision) if last else None,
                          actor_id=last.actor_id if last else None,
                          occurred_dt=last.occurred_dt if last else None)


def undoable(answer_id: int, subject: Subject) -> ModerationEvent:
    """The item's last decision, if it was taken today (Paris time) and not undone yet."""
    last = last_move(answer_id, subject, (Decision.publish, Decision.reject, Decision.withdraw))
    if last is None or last.occurred_dt.astimezone(clock.PARIS).date() != clock.today() \
            or db.session.scalar(sa.select(sa.func.count()).select_from(ModerationEvent).where(
                ModerationEvent.answer_id == answer_id, ModerationEvent.subject == subject,
                ModerationEvent.id > last.id, ModerationEvent.decision == Decision.undo)):
        raise ModerationError("nothing_to_undo")
    return last


def _move(answer_id: int, scope: Scope, *, from_status: CommentStatus,
          to_status: CommentStatus, **values: object) -> None:
    """The conditional UPDATE: only from ``from_status``. PostgreSQL makes a second
    concurrent UPDATE wait for the first, then re-check the condition, which no longer
    holds: it changes nothing, and we say who decided."""
    now = clock.now()
    changed = db.session.execute(
        sa.update(Answer)
        .where(Answer.id == answer_id, Answer.comment_status == from_status, _in_scope(scope))
        .values(comment_status=to_status, moderated_dt=now, **values)
        .returning(Answer.id).execution_options(synchronize_session=False)).first()
    if changed is None:
        _answer(answer_id, scope)  # NotFound if it is not the moderator's to decide
        raise conflict(answer_id, db.session.scalar(
            sa.select(Answer.comment_status).where(Answer.id == answer_id)))


def history(answer_id: int, decision: Decision, by: Account, *, previous_status: str | None,
            qualification: str | None = None, reason: str | None = None,
            previous_title: str | None = None, previous_text: str | None = None,
            subject: Subject = Subject.comment, object_id: int | None = None) -> None:
    """The decision's history row and its audit event (``object_id``: the reply's or the
    report's id when the decision is about one)."""
    db.session.add(ModerationEvent(
        answer_id=answer_id, decision=decision, subject=subject, qualification=qualification,
        reason=reason, previous_status=previous_status, previous_title=previous_title,
        previous_text=previous_text, actor_id=by.id, occurred_dt=clock.now()))
    changes: dict[str, object] = {"status": previous_status}
    if qualification:
        changes["qualification"] = qualification
    if reason:
        changes["reason"] = reason
    record(f"{subject}.{decision}",
           object_type="answer" if subject == Subject.comment else str(subject),
           object_id=answer_id if object_id is None else object_id, changes=changes, actor=by)


def publish(answer_id: int, qualification: Qualification, *, by: Account) -> None:
    """Show the comment, qualified positive, neutral or negative."""
    qualification = Qualification(qualification)
    _move(answer_id, Scope.of(by), from_status=CommentStatus.pending,
          to_status=CommentStatus.published, qualification=qualification,
          rejection_reason=None, moderated_by_id=by.id)
    history(answer_id, Decision.publish, by, previous_status="pending",
             qualification=qualification)


def reject(answer_id: int, reason: RejectionReason, *, by: Account) -> None:
    """Never show the comment (its marks still count)."""
    reason = RejectionReason(reason)
    _move(answer_id, Scope.of(by), from_status=CommentStatus.pending,
          to_status=CommentStatus.rejected, rejection_reason=reason, qualification=None,
          moderated_by_id=by.id)
    history(answer_id, Decision.reject, by, previous_status="pending", reason=reason)


def withdraw(answer_id: int, reason: RejectionReason, *, by: Account) -> None:
    """Take a published comment off again, with a reason."""
    reason = RejectionReason(reason)
    _move(answer_id, Scope.of(by), from_status=CommentStatus.published,
          to_status=CommentStatus.rejected, rejection_reason=reason, moderated_by_id=by.id)
    history(answer_id, Decision.withdraw, by, previous_status="published", reason=reason)


def undo(answer_id: int, *, by: Account) -> None:
    """Take back the comment's last decision, if it was taken today (Paris time): the
    comment waits for moderation again (a withdrawal is undone to published)."""
    scope = Scope.of(by)
    answer = _answer(answer_id, scope)
    last = undoable(answer_id, Subject.comment)
    back = CommentStatus.published if last.decision == Decision.withdraw \
        else CommentStatus.pending
    _move(answer_id, scope, from_status=CommentStatus(answer.comment_status), to_status=back,
          rejection_reason=None, qualification=(answer.qualification
                                                if back == CommentStatus.published else None),
          moderated_by_id=by.id)
    history(answer_id, Decision.undo, by, previous_status=str(answer.comment_status),
            reason=str(last.decision))


def redact(answer_id: int, *, title: str | None, text: str, by: Account) -> None:
    """Write the public title and text (masking the title: ``title=None``); the trainee's
    words are kept in the history, which only moderators and admins read."""
    text = (text or "").strip()
    title = (title or "").strip() or None
    if not text:
        raise ModerationError("empty_text")
    if len(text) > MAX_TEXT or (title is not None and len(title) > MAX_TITLE):
        raise ModerationError("too_long")
    answer = _answer(answer_id, Scope.of(by))
    if answer.comment_status == CommentStatus.rejected:
        raise ModerationError("rejected")
    if (title, text) == (answer.comment_title, answer.comment_text):
        return
    previous_title, previous_text = answer.comment_title, answer.comment_text
    answer.comment_title, answer.comment_text = title, text
    answer.flags = prescreen.screen(text, title).bits
    history(answer_id, Decision.redact, by, previous_status=str(answer.comment_status),
             previous_title=previous_title, previous_text=previous_text)


def exclude(answer_id: int, reason: ExclusionReason, *, by: Account) -> None:
    """Take the whole answer out of the scores (at the next refresh) and every listing."""
    reason = ExclusionReason(reason)
    answer = _answer_any(answer_id, Scope.of(by))
    if answer.excluded_reason is not None:
        raise ModerationError("already_excluded")
    answer.excluded_reason = reason
    answer.exclusion_changed_dt = clock.now()
    history(answer_id, Decision.exclude, by, previous_status=_status(answer), reason=reason)


def include(answer_id: int, *, by: Account) -> None:
    """Count an excluded answer again."""
    answer = _answer_any(answer_id, Scope.of(by))
    if answer.excluded_reason is None:
        raise ModerationError("not_excluded")
    previous = str(answer.excluded_reason)
    answer.excluded_reason = None
    answer.exclusion_changed_dt = clock.now()
    history(answer_id, Decision.include, by, previous_status=_status(answer), reason=previous)


def _answer_any(answer_id: int, scope: Scope) -> Answer:
    """Any answer of the scope, with or without a comment (ratings can be fraudulent)."""
    return fresh(Answer, answer_id, scope)


def _status(answer: Answer) -> str | None:
    return str(answer.comment_status) if answer.comment_status else None
