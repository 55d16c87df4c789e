"""An access request: everything avis holds about one address, as data and as a text.

The answers are not in it: they name a session, never a person, and nothing links the
person to theirs (an answer receipt only says that an invitation was answered)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import force_locale, format_date, format_datetime, gettext

from avis.audit.operations import record
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.mail.models import OutboxMessage, ProviderEvent, Suppression
from avis.mail.suppressions import digest as suppression_digest
from avis.privacy.erasure import erasure_of, normalise
from avis.surveys.models.answers import AnswerReceipt
from avis.surveys.models.invitations import Invitation

if TYPE_CHECKING:
    from avis.accounts.models import Account

def answers_statement() -> str:
    """The statement every export carries, in the current language (French outside a
    request: the command line)."""
    if not has_request_context():
        with force_locale("fr"):
            return answers_statement_text()
    return answers_statement_text()


def answers_statement_text() -> str:
    return gettext("Your answers to the questionnaires are anonymous: they are stored with "
                   "the session they are about, never with your name or address, and "
                   "nothing links them to you. They are therefore not part of this export, "
                   "and an erasure leaves them, without any link to you, in the statistics.")


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def export_email(email: str, *, actor: Account | None = None,
                 requested_by: str = "staff") -> dict[str, Any]:
    """Everything held about ``email`` (JSON-able). Writes a ``trainee.exported`` audit
    event (without the address) saying who asked (``staff``, or ``trainee`` from their
    own link); the caller commits."""
    email = normalise(email)
    trainee = db.session.scalar(sa.select(Trainee).where(Trainee.email == email))
    erased = erasure_of(email)
    suppression = db.session.scalar(sa.select(Suppression).where(
        Suppression.email_digest == suppression_digest(email)))
    data: dict[str, Any] = {
        "email": email,
        "found": trainee is not None,
        "trainee": None,
        "enrolments": [],
        "email_suppressed": None if suppression is None else {
            "reason": str(suppression.reason), "since": _iso(suppression.created_dt)},
        "erasure": None if erased is None else {
            "reason": str(erased.reason), "erased": _iso(erased.erased_dt),
            "readmitted": _iso(erased.readmitted_dt)},
        "answers": answers_statement(),
    }
    if trainee is not None:
        data["trainee"] = {
            "last_name": trainee.last_name, "first_name": trainee.first_name,
            "phone_1": trainee.phone_1, "phone_2": trainee.phone_2,
            "first_imported": _iso(trainee.created_dt), "last_updated": _iso(trainee.updated_dt)}
        data["enrolments"] = _enrolments(trainee.id)
    record("trainee.exported", object_type="trainee",
           object_id=trainee.id if trainee is not None else None,
           changes={"found": trainee is not None, "requested_by": requested_by},
           actor=actor)
    return data


def _enrolments(trainee_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Enrolment, Session, Course, TrainingBody)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)
        .join(Course, Course.id == Action.course_id)
        .join(TrainingBody, TrainingBody.id == Action.training_body_id)
        .where(Enrolment.trainee_id == trainee_id)
        .order_by(Session.start_date, Enrolment.id)).all()
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.enrolment_id.in_([r[0].id for r in rows]))
        .order_by(Invitation.created_dt, Invitation.id)).all()
    invitation_ids = [i.id for i in invitations]
    emails = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.invitation_id.in_(invitation_ids))
        .order_by(OutboxMessage.invitation_id, OutboxMessage.sequence)).all()
    events = db.session.scalars(sa.select(ProviderEvent).where(
        ProviderEvent.invitation_id.in_(invitation_ids))
        .order_by(ProviderEvent.occurred_dt, ProviderEvent.id)).all()
    receipts = {r.invitation_id: r for r in db.session.scalars(sa.select(AnswerReceipt).where(
        AnswerReceipt.invitation_id.in_(invitation_ids)))}
    result = []
    for enrolment, session, course, body in rows:
        result.append({
            "campaign": enrolment.campaign,
            "imported": _iso(enrolment.created_dt),
            "session": {"number": session.numero, "start": _iso(session.start_date),
                        "end": _iso(session.end_date), "city": session.city,
                        "postcode": session.postcode},
            "course": {"number": course.numero, "title": course.title},
            "training_body": {"siret": body.siret, "name": body.name},
            "invitations": [{
                "questionnaire": str(i.kind), "status": str(i.status),
                "created": _iso(i.created_dt), "expires": _iso(i.expires_dt),
                "first_sent": _iso(i.first_sent_dt), "last_sent": _iso(i.last_sent_dt),
                "delivered": _iso(i.delivered_dt), "opened": _iso(i.opened_dt),
                "link_opened": _iso(i.clicked_dt), "answered": _iso(i.answered_dt),
                "accepts_contact": (receipts[i.id].accepts_contact if i.id in receipts
                                    else None),
                "emails": [{"template": m.template, "status": str(m.status),
                            "queued": _iso(m.created_dt), "sent": _iso(m.sent_dt)}
                           for m in emails if m.invitation_id == i.id],
                "provider_events": [{"type": e.event_type, "occurred": _iso(e.occurred_dt)}
                                    for e in events if e.invitation_id == i.id],
            } for i in invitations if i.enrolment_id == enrolment.id],
        })
    return result


def export_text(data: dict[str, Any]) -> str:
    """The export as a text a person can read, in the current language (French by
    default, and on the command line)."""
    if not has_request_context():
        with force_locale("fr"):
            return _text(data)
    return _text(data)


def _text(data: dict[str, Any]) -> str:
    def when(value: str | None) -> str:
        if value is None:
            return "—"
        if "T" in value:
            return format_datetime(dt.datetime.fromisoformat(value), "d MMMM y, HH:mm")
        return format_date(dt.date.fromisoformat(value), "d MMMM y")

    lines = [gettext("Personal data held by avis about %(email)s", email=data["email"]), ""]
    trainee = data["trainee"]
    if trainee is None:
        lines.append(gettext("No trainee has this address."))
    else:
        lines += [
            gettext("Last name: %(value)s", value=trainee["last_name"] or "—"),
            gettext("First name: %(value)s", value=trainee["first_name"] or "—"),
            gettext("Phone numbers: %(value)s", value=", ".join(
                p for p in (trainee["phone_1"], trainee["phone_2"]) if p) or "—"),
            gettext("First imported: %(date)s", date=when(trainee["first_imported"])),
            gettext("Last updated by an import: %(date)s", date=when(trainee["last_updated"])),
        ]
    for enrolment in data["enrolments"]:
        session = enrolment["session"]
        lines += ["", gettext(
            "Course “%(course)s” (%(number)s) by %(body)s (SIRET %(siret)s), session %(session)s "
            "in %(city)s from %(start)s to %(end)s; imported on %(imported)s (campaign "
            "%(campaign)s).", course=enrolment["course"]["title"],
            number=enrolment["course"]["number"], body=enrolment["training_body"]["name"],
            siret=enrolment["training_body"]["siret"], session=session["number"],
            city=session["city"], start=when(session["start"]), end=when(session["end"]),
            imported=when(enrolment["imported"]), campaign=enrolment["campaign"])]
        for invitation in enrolment["invitations"]:
            lines.append("  " + gettext(
                "Invitation to the %(questionnaire)s questionnaire created on %(created)s, "
                "valid until %(expires)s; status: %(status)s; answered: %(answered)s.",
                questionnaire=invitation["questionnaire"], created=when(invitation["created"]),
                expires=when(invitation["expires"]), status=invitation["status"],
                answered=when(invitation["answered"])))
            for message in invitation["emails"]:
                lines.append("    " + gettext(
                    "Email “%(template)s”: queued on %(queued)s, sent on %(sent)s "
                    "(%(status)s).", template=message["template"],
                    queued=when(message["queued"]), sent=when(message["sent"]),
                    status=message["status"]))
            for event in invitation["provider_events"]:
                lines.append("    " + gettext(
                    "Mail provider event “%(type)s” on %(date)s.", type=event["type"],
                    date=when(event["occurred"])))
    lines.append("")
    suppressed = data["email_suppressed"]
    if suppressed is not None:
        lines.append(gettext("No more email is sent to this address since %(date)s "
                             "(%(reason)s).", date=when(suppressed["since"]),
                             reason=suppressed["reason"]))
    erasure = data["erasure"]
    if erasure is not None:
        lines.append(gettext("This address was erased on %(date)s (%(reason)s).",
                             date=when(erasure["erased"]), reason=erasure["reason"]))
        if erasure["readmitted"]:
            lines.append(gettext("It was re-admitted on %(date)s.",
                                 date=when(erasure["readmitted"])))
    lines += ["", data["answers"]]
    return "\n".join(lines) + "\n"
