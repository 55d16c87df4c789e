"""``avis demo``: a realistic Pays de la Loire data set, loaded through the real import."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from avis.db import db
from avis.models import Action, Enrolment, Session, Trainee, TrainingBody

pytestmark = pytest.mark.usefixtures("app_context")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_demo_loads_a_region(runner):
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert "0 rejetées" in result.output
    assert count(Trainee) == 3000
    assert 2900 <= count(Enrolment) <= 3300
    assert 180 <= count(Session) <= 220
    delivering = db.session.scalar(sa.select(sa.func.count(sa.distinct(Action.training_body_id))))
    assert 35 <= delivering <= 45
    regions = db.session.scalars(sa.select(Session.region_code).distinct()).all()
    assert regions == ["52"]
    departements = set(db.session.scalars(sa.select(Session.departement).distinct()))
    assert departements == {"44", "49", "53", "72", "85"}
    sizes = db.session.scalars(
        sa.select(sa.func.count()).select_from(Enrolment).group_by(Enrolment.session_id)
    ).all()
    assert min(sizes) < 5, "small sessions must exist, for the privacy thresholds"
    # Answers with a spread of marks, French comments, follow-ups.
    from avis.surveys.models.answers import Answer, FollowUpAnswer

    assert count(Answer) > 500
    marks = db.session.scalars(sa.select(Answer.overall).distinct()).all()
    assert len(marks) >= 10
    assert min(marks) <= 2.5 < 4.5 <= max(marks)
    comments = db.session.scalars(sa.select(Answer.comment_text)
                                  .where(Answer.comment_text.is_not(None))).all()
    assert len(comments) > 100
    assert any("formation" in c for c in comments)
    assert count(FollowUpAnswer) > 50
    bodies = db.session.scalars(sa.select(sa.func.avg(Answer.overall))
                                .group_by(Answer.training_body_id)).all()
    assert max(bodies) - min(bodies) > 0.8, "training bodies must not all score alike"


def test_demo_is_deterministic_and_idempotent(runner):
    assert runner.invoke(args=["demo", "--trainees", "400", "--seed", "7"]).exit_code == 0
    bodies = db.session.scalars(sa.select(TrainingBody.siret).order_by(TrainingBody.siret)).all()

    again = runner.invoke(args=["demo", "--trainees", "400", "--seed", "7"])

    assert " 0 importées, 0 mises à jour" in again.output
    assert db.session.scalars(
        sa.select(TrainingBody.siret).order_by(TrainingBody.siret)).all() == bodies


def test_demo_if_empty_keeps_existing_data(runner):
    assert runner.invoke(args=["demo", "--trainees", "200"]).exit_code == 0
    before = count(Enrolment)

    result = runner.invoke(args=["demo", "--if-empty", "--trainees", "900", "--seed", "3"])

    assert result.exit_code == 0
    assert "démo non chargée" in result.output
    assert count(Enrolment) == before


def test_demo_invites_recent_sessions_and_its_mailbox_links_work(runner, app, client,
                                                                 instance_path):
    import re

    result = runner.invoke(args=["demo", "--trainees", "600"])
    assert result.exit_code == 0, result.output
    from tests.mail.test_dispatch_paths import text_part

    figures = re.search(r"Invitations : (\d+) créées \(dont (\d+) de suivi à 6 mois\), "
                        r"(\d+) courriels envoyés", result.output)
    created, follow_ups, sent = (int(n) for n in figures.groups())
    assert created > follow_ups > 0
    emails = sorted((instance_path / "mailbox").glob("*.eml"))
    assert len(emails) == sent == created
    page = client.get("/dev/mailbox")
    assert page.status_code == 200
    name = emails[0].name
    assert name in page.get_data(as_text=True)
    # The demo answers some of the invitations it mailed: their links say so; the
    # others open the questionnaire. Pick one of each through the tokens' hashes.
    from avis.surveys import tokens
    from avis.surveys.models.invitations import Invitation, InvitationStatus, InvitationToken

    links = {}
    for email in emails:
        path = re.search(r"http://127\.0\.0\.1:5000(/q/[A-Za-z0-9_\-]+)",
                         text_part(email)).group(1)
        status = db.session.scalar(
            sa.select(Invitation.status).join(InvitationToken)
            .where(InvitationToken.digest == tokens.digest(path.removeprefix("/q/"))))
        links.setdefault(status == InvitationStatus.answered, path)
    answered = client.get(links[True])
    assert answered.status_code == 200
    assert "Merci, vous avez répondu" in answered.get_data(as_text=True)
    opened = client.get(links[False])
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/q/"
    questionnaire = client.get("/q/")
    assert questionnaire.status_code == 200
    assert "name=\"csrf_token\"" in questionnaire.get_data(as_text=True)  # a form, either kind
