"""Access requests: the export holds everything about the person, and says the answers
are not linked to them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis.audit.models import AuditEvent
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import suppress
from avis.privacy.erasure import erase_email
from avis.privacy.export import export_email, export_text
from tests.privacy import erasure_world as w

BUILT = w.BUILT.isoformat()
EXPIRES = (w.BUILT + dt.timedelta(days=90)).isoformat()
STATEMENT = ("Vos réponses aux questionnaires sont anonymes : elles sont enregistrées avec la "
             "session dont elles parlent, jamais avec votre nom ni votre adresse, et rien ne "
             "les relie à vous. Elles ne font donc pas partie de cet export, et un effacement "
             "les laisse, sans aucun lien avec vous, dans les statistiques.")


@pytest.fixture
def world(app: Flask, client: FlaskClient, tmp_path: Path, app_context: None) -> w.World:
    with w.frozen():
        return w.build(app, client, tmp_path)


def expected() -> dict:
    return {
        "email": w.EMAIL,
        "found": True,
        "trainee": {"last_name": w.LAST_NAME, "first_name": w.FIRST_NAME,
                    "phone_1": w.PHONE_1, "phone_2": w.PHONE_2,
                    "first_imported": BUILT, "last_updated": BUILT},
        "enrolments": [{
            "campaign": "2026-printemps",
            "imported": BUILT,
            "session": {"number": "14_SE_0000092111", "start": "2026-01-05",
                        "end": "2026-06-30", "city": "Nantes", "postcode": "44000"},
            "course": {"number": "14_AF_0000011111", "title": "Aide à domicile"},
            "training_body": {"siret": w.BODY_SIRET, "name": "Formation Ouest Nantes"},
            "invitations": [{
                "questionnaire": "end_of_training", "status": "answered",
                "created": BUILT, "expires": EXPIRES, "first_sent": BUILT,
                "last_sent": BUILT, "delivered": BUILT, "opened": None,
                "link_opened": BUILT, "answered": BUILT, "accepts_contact": True,
                "emails": [
                    {"template": "invitation", "status": "sent", "queued": BUILT,
                     "sent": BUILT},
                    {"template": "reminder", "status": "queued", "queued": BUILT,
                     "sent": None},
                ],
                "provider_events": [{"type": "delivered", "occurred": BUILT}],
            }],
        }],
        "email_suppressed": None,
        "erasure": None,
        "answers": STATEMENT,
    }


def test_the_export_holds_everything_about_the_person(world: w.World) -> None:
    with w.frozen():
        assert export_email(w.EMAIL.upper()) == expected()
        db.session.commit()
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "trainee.exported"))
        assert (event.object_id, event.changes) == (
            str(world.trainee_id), {"found": True, "requested_by": "staff"})
        assert w.personal_data_in(str(event.__dict__)) == []


def test_the_export_tells_unsubscribes_and_erasures(world: w.World) -> None:
    with w.frozen():
        suppress(w.EMAIL, SuppressionReason.unsubscribe)
        data = export_email(w.EMAIL)
        assert data["email_suppressed"] == {"reason": "unsubscribe", "since": BUILT}
        assert [i["status"] for i in data["enrolments"][0]["invitations"]] == ["answered"]
        erase_email(w.EMAIL, reason="request")
        data = export_email(w.EMAIL)
        assert data | {"erasure": None, "email_suppressed": None} == {
            "email": w.EMAIL, "found": False, "trainee": None, "enrolments": [],
            "email_suppressed": None, "erasure": None, "answers": STATEMENT}
        assert data["erasure"] == {"reason": "request", "erased": BUILT, "readmitted": None}


def test_the_text_export_reads_in_french(world: w.World) -> None:
    with w.frozen():
        text = export_text(export_email(w.EMAIL))
    for part in (f"Données personnelles détenues par avis sur {w.EMAIL}",
                 f"Nom : {w.LAST_NAME}", f"Prénom : {w.FIRST_NAME}",
                 f"Téléphones : {w.PHONE_1}, {w.PHONE_2}",
                 "Formation « Aide à domicile » (14_AF_0000011111) par Formation Ouest Nantes",
                 "à Nantes du 5 janvier 2026 au 30 juin 2026",
                 "Invitation au questionnaire end_of_training créée le 2 juillet 2026",
                 "E-mail « invitation » : mis en attente le 2 juillet 2026",
                 "E-mail « reminder » : mis en attente le 2 juillet 2026, 10:00, envoyé le —",
                 "Événement du fournisseur d’e-mail « delivered »", STATEMENT):
        assert part in text, part


def test_an_unknown_address_exports_nothing_but_the_statement(world: w.World) -> None:
    data = export_email("personne@example.org")
    assert data == {"email": "personne@example.org", "found": False, "trainee": None,
                    "enrolments": [], "email_suppressed": None, "erasure": None,
                    "answers": STATEMENT}
