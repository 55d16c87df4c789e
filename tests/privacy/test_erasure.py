"""Erasure: the person's identity leaves every table, the aggregates stay, and the
address stays out (imports refuse it, nothing is sent to it) until staff re-admit it."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.audit.models import AuditEvent
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.mail.backends.file import FileBackend
from avis.mail.dispatch import dispatch
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent
from avis.monitoring import funnel
from avis.monitoring.models.funnel import FunnelCount, FunnelMonthCount
from avis.privacy.erasure import erase_email, erase_trainees, is_refused, readmit
from avis.privacy.models import ErasedAddress
from avis.scores.aggregate import recompute_all
from avis.scores.models import Score
from avis.surveys.jobs import create_end_of_training_invitations
from avis.surveys.models.answers import Answer, AnswerReceipt
from avis.surveys.models.invitations import Invitation, InvitationToken
from tests.privacy import erasure_world as w


@pytest.fixture
def world(app: Flask, client: FlaskClient, tmp_path: Path, app_context: None) -> w.World:
    with w.frozen():
        return w.build(app, client, tmp_path)


def aggregates() -> dict[str, Any]:
    """Scores and funnel counts recomputed from scratch, without their timestamps."""
    recompute_all()
    funnel.rebuild()
    snapshot = {}
    for model in (Score, FunnelCount, FunnelMonthCount):
        table = model.__table__
        columns = [c for c in table.c if not c.name.endswith("_dt") and c.name != "id"
                   and "run" not in c.name]
        snapshot[table.name] = sorted(
            tuple(map(str, row)) for row in db.session.execute(sa.select(*columns)))
    assert snapshot["monitoring_counts"], "the funnel counted nothing: the test proves nothing"
    return snapshot


def count(model: type, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def mailbox_text(app: Flask) -> str:
    folder = FileBackend.from_config(app.config, app.instance_path).directory
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_erasure_removes_the_identity_everywhere_and_keeps_the_aggregates(
        world: w.World) -> None:
    with w.frozen():
        before = aggregates()
        assert set(w.personal_data_in(w.dump())) >= {w.EMAIL, w.FIRST_NAME, w.PHONE_1}
        answers = count(Answer)
        assert count(AnswerReceipt, AnswerReceipt.invitation_id == world.invitation_id) == 1

        assert erase_email(f"  {w.EMAIL.upper()} ", reason="request") == 1
        db.session.commit()

        assert w.personal_data_in(w.dump()) == []
        assert count(ErasedAddress) == 1
        assert is_refused(w.EMAIL)
        trainee = db.session.get(Trainee, world.trainee_id)
        assert trainee.erased_dt == w.BUILT
        assert (trainee.email, trainee.first_name, trainee.last_name, trainee.phone_1,
                trainee.phone_2) == (None,) * 5
        # Every link to the person goes; the answer and the invitation stay.
        for model in (InvitationToken, AnswerReceipt, ProviderEvent):
            assert count(model, model.invitation_id == world.invitation_id) == 0
        assert count(Answer) == answers
        assert db.session.get(Invitation, world.invitation_id) is not None
        reminder = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.invitation_id == world.invitation_id, OutboxMessage.sequence == 1))
        assert reminder.status == MessageStatus.cancelled
        # The others are untouched.
        assert count(Trainee, Trainee.email.in_(w.OTHERS)) == 5
        assert aggregates() == before
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "trainee.erased")).all()
        assert [(e.object_type, e.object_id, e.changes) for e in events] == [
            ("trainee", str(world.trainee_id), {"reason": "request"})]
        assert events[0].actor_role == "cli"


def test_erasing_twice_changes_nothing(world: w.World) -> None:
    with w.frozen():
        assert erase_trainees([world.trainee_id], reason="request") == 1
        db.session.commit()
        first = w.dump()
        assert erase_trainees([world.trainee_id], reason="request") == 0
        assert erase_email(w.EMAIL, reason="request") == 0
        db.session.commit()
        assert w.dump() == first
        assert count(AuditEvent, AuditEvent.action == "trainee.erased") == 1


def test_erasure_by_a_query_of_ids_as_the_retention_job_does(world: w.World) -> None:
    with w.frozen():
        chosen = sa.select(Trainee.id).where(Trainee.erased_dt.is_(None),
                                             Trainee.email.like("lea.martin%"))
        assert erase_trainees(chosen, reason="retention") == 5
        assert erase_trainees(chosen, reason="retention") == 0
        db.session.commit()
        assert count(Trainee, Trainee.erased_dt.is_not(None)) == 5
        assert count(ErasedAddress, ErasedAddress.reason == "retention") == 5
        roles = db.session.scalars(sa.select(AuditEvent.actor_role).where(
            AuditEvent.action == "trainee.erased")).all()
        assert roles == ["system"] * 5
        for email in w.OTHERS:
            assert email not in w.dump()


def test_an_unknown_reason_is_refused(world: w.World) -> None:
    with pytest.raises(ValueError, match="because"):
        erase_trainees([world.trainee_id], reason="because")


def test_a_reimport_refuses_the_erased_address_and_never_emails_it(
        app: Flask, world: w.World) -> None:
    with w.frozen():
        erase_email(w.EMAIL, reason="request")
        db.session.commit()
        trainees = count(Trainee)
    later = w.BUILT + dt.timedelta(days=1)
    with clock.frozen_at(later):
        summary = w.import_file(world.path)
        assert (summary.rejected, summary.unchanged, summary.imported) == (1, 5, 0)
        with summary.rejected_path.open(encoding="utf-8-sig") as handle:
            rejected = list(csv.DictReader(handle, delimiter="|"))
        assert [r["motif"] for r in rejected] == [
            "adresse effacée à la demande de la personne"]
        # The report names the line, never the erased identity again.
        assert rejected[0]["ligne"].isdigit()
        assert w.personal_data_in(summary.rejected_path.read_text(encoding="utf-8-sig")) == []
        assert count(Trainee) == trainees
        assert count(Trainee, sa.func.lower(Trainee.email) == w.EMAIL) == 0
        sent_before = mailbox_text(app)
        create_end_of_training_invitations()
        dispatch(FileBackend.from_config(app.config, app.instance_path))
        assert w.EMAIL not in mailbox_text(app)[len(sent_before):].lower()


def test_a_readmitted_address_imports_again(world: w.World) -> None:
    with w.frozen():
        erase_email(w.EMAIL, reason="request")
        db.session.commit()
        assert readmit(w.EMAIL) is True
        assert readmit(w.EMAIL) is False
        db.session.commit()
        assert not is_refused(w.EMAIL)
        summary = w.import_file(world.path)
        assert (summary.rejected, summary.imported) == (0, 1)
        trainee = db.session.scalar(sa.select(Trainee).where(Trainee.email == w.EMAIL))
        assert trainee.id != world.trainee_id
        assert trainee.first_name == w.FIRST_NAME
        assert count(AuditEvent, AuditEvent.action == "trainee.readmitted") == 1
        # Erased again: refused again, the same record.
        assert erase_email(w.EMAIL, reason="self_service") == 1
        db.session.commit()
        assert is_refused(w.EMAIL)
        assert count(ErasedAddress) == 1


def test_an_address_erased_before_any_import_is_refused(world: w.World, tmp_path: Path
                                                        ) -> None:
    with w.frozen():
        newcomer = "nouveau.venu@example.org"
        assert erase_email(newcomer, reason="request") == 0
        assert erase_email(newcomer, reason="request") == 0  # once only
        db.session.commit()
        assert count(AuditEvent, AuditEvent.action == "trainee.erased") == 1
        path = w.write_pe(tmp_path / "new.txt", [w.pe_row(9, c_adresseemail=newcomer)])
        summary = w.import_file(path)
        assert (summary.rejected, summary.imported) == (1, 0)


def test_a_message_queued_after_the_erasure_is_never_sent(app: Flask, world: w.World) -> None:
    with w.frozen():
        erase_trainees([world.trainee_id], reason="request")
        db.session.commit()
        # As if a job had queued it concurrently, before seeing the erasure.
        message = OutboxMessage(invitation_id=world.invitation_id, sequence=2,
                                template="reminder")
        db.session.add(message)
        db.session.commit()
        counts = dispatch(FileBackend.from_config(app.config, app.instance_path))
        assert counts.get("cancelled") == 1
        db.session.refresh(message)
        assert message.status == MessageStatus.cancelled
        enrolment_ids = sa.select(Enrolment.id).where(Enrolment.trainee_id == world.trainee_id)
        assert count(Invitation, Invitation.enrolment_id.in_(enrolment_ids)) == 1


def test_the_erasure_key_outlives_a_new_secret_key(app: Flask, world: w.World) -> None:
    """With ``ERASURE_KEY`` set, rotating ``SECRET_KEY`` keeps erased addresses out;
    without it, the fingerprint follows ``SECRET_KEY`` (documented), and never equals a
    plain hash of the address."""
    with w.frozen():
        app.config["ERASURE_KEY"] = "erasure-key-kept-for-ever"
        erase_email(w.EMAIL, reason="request")
        db.session.commit()
        stored = db.session.scalar(sa.select(ErasedAddress.digest))
        assert stored != hashlib.sha256(w.EMAIL.encode()).digest()
        app.config["SECRET_KEY"] = "a-rotated-secret-key"
        assert is_refused(w.EMAIL)
        app.config["ERASURE_KEY"] = None
        assert not is_refused(w.EMAIL)
