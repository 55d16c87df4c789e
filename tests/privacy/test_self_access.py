"""``/unsubscribe/<token>/mes-donnees``: a trainee downloads what avis holds about them.

The GET page shows the masked address only: the data leave in the answer to a POST with
the CSRF token, so that a mail scanner fetching links never receives them. The download
is the staff's export (same content), journaled as asked by the trainee.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis.audit.models import AuditEvent
from avis.db import db
from avis.privacy.erasure import erase_email
from avis.surveys import tokens
from avis.surveys.models.invitations import InvitationToken
from tests.privacy import erasure_world as w
from tests.privacy.test_export import expected
from tests.privacy.test_self_service import csrf_token


@pytest.fixture
def token(app: Flask, client: FlaskClient, tmp_path: Path, app_context: None) -> str:
    """The link of the world's trainee, as an email would carry it."""
    with w.frozen():
        world = w.build(app, client, tmp_path)
        token = tokens.mint()
        db.session.add(InvitationToken(invitation_id=world.invitation_id,
                                       digest=tokens.digest(token)))
        db.session.commit()
    return token


def exports() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "trainee.exported")))


def test_get_describes_the_download_and_shows_no_data(client: FlaskClient, token: str) -> None:
    with w.frozen():
        response = client.get(f"/unsubscribe/{token}/mes-donnees")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Mes données</h1>" in html
    assert "z…@example.org" in html
    assert w.personal_data_in(html) == []
    assert token not in html.split("<form", 1)[1].split("</form>", 1)[0]
    assert 'value="Télécharger en texte"' in html
    assert 'value="Télécharger en JSON"' in html
    assert "Vos réponses n’y figurent pas" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert exports() == []


def test_post_downloads_the_whole_export_as_json(client: FlaskClient, token: str) -> None:
    with w.frozen():
        page = client.get(f"/unsubscribe/{token}/mes-donnees").get_data(as_text=True)
        response = client.post(f"/unsubscribe/{token}/mes-donnees",
                               data={"csrf_token": csrf_token(page), "as_json": "1"})

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="mes-donnees-avis.json"'
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.get_data(as_text=True)) == expected()
    [event] = exports()
    assert event.actor_id is None
    assert event.changes == {"found": True, "requested_by": "trainee"}
    assert w.personal_data_in(str(event.__dict__)) == []


def test_post_downloads_a_text_in_french(client: FlaskClient, token: str) -> None:
    with w.frozen():
        page = client.get(f"/unsubscribe/{token}/mes-donnees").get_data(as_text=True)
        response = client.post(f"/unsubscribe/{token}/mes-donnees",
                               data={"csrf_token": csrf_token(page), "as_text": "1"})

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="mes-donnees-avis.txt"'
    text = response.get_data(as_text=True)
    for part in (f"Données personnelles détenues par avis sur {w.EMAIL}",
                 f"Nom : {w.LAST_NAME}", f"Téléphones : {w.PHONE_1}, {w.PHONE_2}",
                 "Formation « Aide à domicile »", "Vos réponses aux questionnaires sont anonymes"):
        assert part in text, part
    assert len(exports()) == 1


@pytest.mark.parametrize("data", [{"as_json": "1"}, {"csrf_token": "forged", "as_json": "1"}])
def test_a_post_without_a_valid_csrf_token_gets_nothing(client: FlaskClient, token: str,
                                                        data: dict[str, str]) -> None:
    with w.frozen():
        client.get(f"/unsubscribe/{token}/mes-donnees")
        response = client.post(f"/unsubscribe/{token}/mes-donnees", data=data)

    assert response.status_code == 400
    assert w.personal_data_in(response.get_data(as_text=True)) == []
    assert exports() == []


def test_the_erasure_page_and_the_unsubscribe_page_lead_to_it(client: FlaskClient,
                                                              token: str) -> None:
    with w.frozen():
        for page, label in ((f"/unsubscribe/{token}/supprimer", "Télécharger d’abord mes données"),
                            (f"/unsubscribe/{token}", "Mes données")):
            html = client.get(page).get_data(as_text=True)
            link = re.search(rf'<a href="([^"]+)">{label}</a>', html)
            assert link is not None, page
            assert link.group(1) == f"/unsubscribe/{token}/mes-donnees"


def test_after_an_erasure_the_link_leads_nowhere(client: FlaskClient, token: str) -> None:
    with w.frozen():
        page = client.get(f"/unsubscribe/{token}/mes-donnees").get_data(as_text=True)
        erase_email(w.EMAIL, reason="request")
        db.session.commit()
        response = client.post(f"/unsubscribe/{token}/mes-donnees",
                               data={"csrf_token": csrf_token(page), "as_json": "1"})

    assert response.status_code == 404
    assert "<h1>Ce lien ne fonctionne pas</h1>" in response.get_data(as_text=True)
    assert exports() == []


def test_an_expired_link_gives_nothing(client: FlaskClient, token: str) -> None:
    later = w.BUILT + dt.timedelta(days=91)
    with w.frozen():
        page = client.get(f"/unsubscribe/{token}/mes-donnees").get_data(as_text=True)
    from avis import clock

    with clock.frozen_at(later):
        response = client.post(f"/unsubscribe/{token}/mes-donnees",
                               data={"csrf_token": csrf_token(page), "as_json": "1"})

    assert response.status_code == 410
    assert w.personal_data_in(response.get_data(as_text=True)) == []
    assert exports() == []
