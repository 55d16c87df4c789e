"""A realistic small world for the erasure and export tests: a France Travail file
imported, invitations sent through the file backend, an answer, a provider event, an
unsubscribe, a reminder queued; and a dump of every table to look for personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.catalog.imports.operations import ImportSummary, import_trainees
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.mail.backends.file import FileBackend
from avis.mail.dispatch import dispatch
from avis.mail.events import apply_events
from avis.mail.models import OutboxMessage, SuppressionReason
from avis.mail.suppressions import suppress
from avis.models import Base
from avis.surveys import tokens
from avis.surveys.jobs import create_end_of_training_invitations
from avis.surveys.models.invitations import Invitation, InvitationToken
from tests.catalog.fixtures import BODY_SIRET, pe_row, write_pe

__all__ = ["BODY_SIRET", "pe_row", "write_pe"]

#: The day the world is built: the session ended on 30 June 2026.
BUILT = dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC)
#: The person who asks to be erased (row 1 of the file), and what identifies them.
EMAIL = "zoe.quintard@example.org"
FIRST_NAME = "Zoéline"
LAST_NAME = "Quintardière"
PHONE_1 = "0611223344"
PHONE_2 = "0299887766"
OTHERS = [f"lea.martin{n}@example.org" for n in range(2, 7)]
ANSWER = {"welcome": "4", "content": "5", "trainers": "4", "equipment": "3", "support": "5",
          "would_recommend": "yes", "comment_title": "Bien", "comment_text": "Formation utile.",
          "comment_public": "y", "accepts_contact": "y"}


def file_rows() -> list[dict[str, str]]:
    """Six trainees of one session; the first is the person erased."""
    return [pe_row(1, c_adresseemail=EMAIL.upper(), c_prenomcorrespondance=FIRST_NAME,
                   c_nomcorrespondance=LAST_NAME, c_telephone1=PHONE_1, c_telephone2=PHONE_2),
            *(pe_row(n) for n in range(2, 7))]


@dataclass
class World:
    path: Path
    summary: ImportSummary
    invitation_id: int
    trainee_id: int


def import_file(path: Path) -> ImportSummary:
    return import_trainees(db.session, path, format_name="pe", campaign="2026-printemps")


def build(app: Flask, client: FlaskClient, tmp_path: Path) -> World:
    """Build the world (inside ``clock.frozen_at(BUILT)``, in an app context)."""
    path = write_pe(tmp_path / "export.txt", file_rows())
    summary = import_file(path)
    assert summary.imported == 6, summary.line()
    create_end_of_training_invitations()
    dispatch(FileBackend.from_config(app.config, app.instance_path))
    trainee_id = db.session.scalar(sa.select(Trainee.id).where(Trainee.email == EMAIL))
    invitation = db.session.scalar(
        sa.select(Invitation).join(Enrolment).where(Enrolment.trainee_id == trainee_id))
    assert invitation is not None
    assert invitation.first_sent_dt is not None
    # The link of the email (the file backend's token is not kept: mint one as it would).
    token = tokens.mint()
    db.session.add(InvitationToken(invitation_id=invitation.id, digest=tokens.digest(token)))
    db.session.commit()
    assert client.get(f"/q/{token}").status_code == 303
    html = client.get("/q/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/q/", data={**ANSWER, "csrf_token": csrf}).status_code == 303
    apply_events([{"sg_event_id": "evt-delivered-1", "event": "delivered",
                   "timestamp": int(BUILT.timestamp()), "invitation": str(invitation.id),
                   "email": EMAIL}])
    db.session.commit()
    # A reminder waiting to be sent: an erasure must cancel it.
    db.session.add(OutboxMessage(invitation_id=invitation.id, sequence=1, template="reminder"))
    # Another trainee unsubscribed: their suppression is theirs, untouched.
    suppress(OTHERS[0], SuppressionReason.unsubscribe)
    db.session.commit()
    return World(path, summary, invitation.id, trainee_id)


def dump() -> str:
    """Every value of every row of every table, as one lowercase text (bytes included as
    latin-1, so an address stored as raw bytes would show too)."""
    db.session.rollback()
    parts: list[str] = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            for value in row:
                parts.append(_text(value))
    return "\n".join(parts).lower()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def personal_data_in(text: str) -> list[str]:
    """Which of the erased person's identifiers ``text`` holds."""
    needles = [EMAIL, FIRST_NAME, LAST_NAME, PHONE_1, PHONE_2, "zoe.quintard"]
    return [n for n in needles if n.lower() in text.lower()]


def frozen() -> Any:
    return clock.frozen_at(BUILT)
