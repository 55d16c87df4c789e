"""Training bodies' reports on reviews. The review stays online, marks and comment, while
a moderator examines the report (ANOTEA hid it at once, which let a body silence any
review for as long as moderation took). The moderator keeps the review or takes its
comment off, with a message the body receives by email.

Same discipline as ``operations``: one conditional UPDATE per decision, a history row
and an audit event, in the caller's transaction, within the account's scope.
"""

from __future__ import annotations

import sqlalchemy as sa

from avis import clock
from avis.accounts.models import Account, AccountMail, AccountMessage, AccountStatus, Role
from avis.accounts.scope import Scope
from avis.audit.operations import record
from avis.db import db, insert_skipping_conflicts
from avis.moderation.models import Decision, Report, ReportReason, ReportStatus, Subject
from avis.moderation.operations import ModerationError, NotFound, conflict, fresh, history
from avis.surveys.models.answers import Answer, CommentStatus, RejectionReason

MAX_REPORT = 1000
MAX_MESSAGE = 1000


def report(answer_id: int, reason: ReportReason, text: str, *, by: Account) -> Report:
    """A body reports one of its reviews; once per review and body."""
    if by.role != Role.organisation:
        raise ModerationError("not_a_body")
    reason = ReportReason(reason)
    text = (text or "").strip()
    if not text:
        raise ModerationError("empty_report")
    if len(text) > MAX_REPORT:
        raise ModerationError("report_too_long")
    body_id = db.session.scalar(sa.select(Answer.training_body_id).where(
        Answer.id == answer_id, Scope.of(by).where(Answer)))
    if body_id is None:
        raise NotFound()
    # ON CONFLICT DO NOTHING: a second report, even a concurrent one, meets the unique
    # key without undoing the rest of the caller's transaction.
    created = db.session.execute(
        insert_skipping_conflicts(Report.__table__)
        .values(answer_id=answer_id, training_body_id=body_id, reason=reason, text=text,
                author_id=by.id, status=ReportStatus.open, created_dt=clock.now())
        .returning(Report.id)).scalar()
    if created is None:
        raise ModerationError("already_reported")
    record("report.create", object_type="report", object_id=created,
           changes={"reason": str(reason)}, actor=by)
    found = db.session.get(Report, created)
    assert found is not None
    return found


def _decide(report_id: int, by: Account, *, to_status: ReportStatus, decision: Decision,
            message: str, reason: str | None = None) -> Report:
    message = (message or "").strip()
    if not message:
        raise ModerationError("empty_message")
    if len(message) > MAX_MESSAGE:
        raise ModerationError("message_too_long")
    scope = Scope.of(by)
    found = fresh(Report, report_id, scope)
    changed = db.session.execute(
        sa.update(Report)
        .where(Report.id == report_id, Report.status == ReportStatus.open,
               scope.where(Report))
        .values(status=to_status, message=message, decided_dt=clock.now(),
                decided_by_id=by.id)
        .returning(Report.id).execution_options(synchronize_session=False)).first()
    if changed is None:
        raise conflict(found.answer_id, db.session.scalar(
            sa.select(Report.status).where(Report.id == report_id)), Subject.report)
    history(found.answer_id, decision, by, previous_status=str(ReportStatus.open),
            reason=reason, subject=Subject.report, object_id=report_id)
    _tell_the_body(found)
    return found


def _tell_the_body(found: Report) -> None:
    """The decision and the message go to whoever reported, if their account still
    works (the email is queued in this transaction and sent by the account-mail job)."""
    author = db.session.get(Account, found.author_id) if found.author_id else None
    if author is not None and author.status == AccountStatus.active:
        db.session.add(AccountMessage(account_id=author.id, kind=AccountMail.report_decided,
                                      report_id=found.id))


def keep(report_id: int, message: str, *, by: Account) -> None:
    """The review stays as it is."""
    _decide(report_id, by, to_status=ReportStatus.kept, decision=Decision.keep,
            message=message)


def remove(report_id: int, reason: RejectionReason, message: str, *, by: Account) -> None:
    """The review's comment is taken off (its marks still count: excluding the whole
    answer is a separate decision, for a wrong body or a fraud)."""
    reason = RejectionReason(reason)
    scope = Scope.of(by)
    answer = db.session.scalar(sa.select(Answer).where(
        Answer.id == sa.select(Report.answer_id).where(Report.id == report_id,
                                                       scope.where(Report))
        .scalar_subquery()).execution_options(populate_existing=True))
    if answer is None:
        raise NotFound()
    if answer.comment_status is None:
        raise ModerationError("no_comment")
    found = _decide(report_id, by, to_status=ReportStatus.removed, decision=Decision.remove,
                    message=message, reason=reason)
    if answer.comment_status != CommentStatus.rejected:
        previous = str(answer.comment_status)
        db.session.execute(
            sa.update(Answer).where(Answer.id == found.answer_id)
            .values(comment_status=CommentStatus.rejected, rejection_reason=reason,
                    moderated_dt=clock.now(), moderated_by_id=by.id)
            .execution_options(synchronize_session=False))
        history(found.answer_id, Decision.withdraw if previous == "published"
                else Decision.reject, by, previous_status=previous, reason=reason)
