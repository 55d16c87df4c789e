"""``avis gdpr erase|export|readmit --email E``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from avis.audit.models import AuditEvent
from avis.catalog.models.trainees import Trainee
from avis.db import db
from avis.privacy.cli import gdpr_group
from avis.privacy.erasure import is_refused
from tests.privacy import erasure_world as w


@pytest.fixture
def world(app: Flask, client: FlaskClient, tmp_path: Path, app_context: None) -> w.World:
    with w.frozen():
        return w.build(app, client, tmp_path)


def test_erase_then_again_then_readmit(runner: FlaskCliRunner, world: w.World) -> None:
    result = runner.invoke(gdpr_group, ["erase", "--email", w.EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert "Données personnelles effacées" in result.output
    db.session.rollback()
    assert db.session.get(Trainee, world.trainee_id).erased_dt is not None
    again = runner.invoke(gdpr_group, ["erase", "--email", w.EMAIL])
    assert (again.exit_code, again.output) == (
        0, "Cette adresse était déjà effacée : rien n’a changé.\n")
    readmitted = runner.invoke(gdpr_group, ["readmit", "--email", w.EMAIL])
    assert readmitted.exit_code == 0, readmitted.output
    db.session.rollback()
    assert not is_refused(w.EMAIL)
    twice = runner.invoke(gdpr_group, ["readmit", "--email", w.EMAIL])
    assert twice.exit_code == 1
    assert "n’est pas effacée" in twice.output


def test_erasing_an_unknown_address_records_it(runner: FlaskCliRunner, app_context: None
                                               ) -> None:
    result = runner.invoke(gdpr_group, ["erase", "--email", "inconnu@example.org"])
    assert result.exit_code == 0
    assert "Aucun stagiaire n’a cette adresse ; elle est enregistrée comme effacée" in (
        result.output)
    db.session.rollback()
    assert is_refused("inconnu@example.org")


def test_a_bad_address_is_a_usage_error(runner: FlaskCliRunner, app_context: None) -> None:
    result = runner.invoke(gdpr_group, ["erase", "--email", "pas une adresse"])
    assert result.exit_code == 2
    assert "adresse e-mail invalide" in result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_export_as_json_and_as_text(runner: FlaskCliRunner, world: w.World) -> None:
    result = runner.invoke(gdpr_group, ["export", "--email", w.EMAIL])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["trainee"]["last_name"] == w.LAST_NAME
    assert len(data["enrolments"][0]["invitations"][0]["emails"]) == 2
    text = runner.invoke(gdpr_group, ["export", "--email", w.EMAIL, "--text"])
    assert text.exit_code == 0
    assert f"Nom : {w.LAST_NAME}" in text.output
    assert "rien ne les relie à vous" in text.output
    db.session.rollback()
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "trainee.exported")).all()
    assert len(events) == 2
    assert all(w.personal_data_in(str(e.changes) + str(e.object_id)) == [] for e in events)


def test_export_of_an_unknown_address(runner: FlaskCliRunner, app_context: None) -> None:
    result = runner.invoke(gdpr_group, ["export", "--email", "inconnu@example.org"])
    assert result.exit_code == 0
    assert "Aucun stagiaire n’a cette adresse." in result.output
