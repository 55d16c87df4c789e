"""``/admin/donnees-personnelles``: admins only, the address only in POST bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis.accounts.models import Role
from avis.audit.models import AuditEvent
from avis.catalog.models.trainees import Trainee
from avis.db import db
from avis.privacy.erasure import is_refused
from tests.privacy import erasure_world as w

PAGE = "/admin/donnees-personnelles"


@pytest.fixture
def world(app: Flask, client: FlaskClient, tmp_path: Path) -> w.World:
    with app.app_context(), w.frozen():
        return w.build(app, client, tmp_path)


@pytest.mark.parametrize("role", [Role.moderator, Role.region])
def test_only_admins(signed_in, role: Role) -> None:
    options = {"region": "52"} if role == Role.region else {}
    browser = signed_in(role, **options)
    assert browser.get(PAGE).status_code == 403
    admin = signed_in(Role.admin)
    token_page = admin.get(PAGE).get_data(as_text=True)
    assert "csrf_token" in token_page
    for path in (PAGE, f"{PAGE}/effacer", f"{PAGE}/readmettre", f"{PAGE}/export.json"):
        assert browser.client.post(path, data={"email": w.EMAIL}).status_code in (400, 403)


def test_look_up_download_erase_and_readmit(app: Flask, world: w.World, signed_in) -> None:
    admin = signed_in(Role.admin)
    shown = admin.submit(PAGE, {"email": w.EMAIL.upper()})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert f"Nom : {w.LAST_NAME}" in html
    assert "rien ne les relie à vous" in html
    download = admin.submit(f"{PAGE}/export.json", {"email": w.EMAIL}, form_page=PAGE)
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(download.get_data())["trainee"]["first_name"] == w.FIRST_NAME
    # Not ticked: a confirmation page, nothing erased.
    asked = admin.submit(f"{PAGE}/effacer", {"email": w.EMAIL}, form_page=PAGE)
    assert "Effacer définitivement" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Trainee, world.trainee_id).erased_dt is None
    done = admin.submit(f"{PAGE}/effacer", {"email": w.EMAIL, "confirmed": "y"},
                        form_page=PAGE)
    assert done.status_code == 200
    with app.app_context():
        assert db.session.get(Trainee, world.trainee_id).erased_dt is not None
        assert is_refused(w.EMAIL)
    readmitted = admin.submit(f"{PAGE}/readmettre", {"email": w.EMAIL}, form_page=PAGE)
    assert "Adresse réadmise" in readmitted.get_data(as_text=True)
    with app.app_context():
        assert not is_refused(w.EMAIL)
        events = db.session.execute(sa.select(
            AuditEvent.action, AuditEvent.actor_id, AuditEvent.changes, AuditEvent.object_id)
            .where(AuditEvent.action.like("trainee.%"))
            .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["trainee.exported", "trainee.exported",
                                              "trainee.erased", "trainee.readmitted"]
        assert {e.actor_id for e in events} == {admin.account.id}
        assert all(w.personal_data_in(str(tuple(e))) == [] for e in events)


def test_a_bad_address_is_refused_clearly(signed_in) -> None:
    admin = signed_in(Role.admin)
    response = admin.submit(PAGE, {"email": "pas une adresse"})
    assert response.status_code == 422
    assert "Ce n’est pas une adresse e-mail." in response.get_data(as_text=True)
