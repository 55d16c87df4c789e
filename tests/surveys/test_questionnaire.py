"""The questionnaires: one answer per invitation, stored as typed, anonymous."""

from __future__ import annotations

import concurrent.futures
import decimal
import re
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage
from avis.surveys.models.answers import Answer, AnswerReceipt, FollowUpAnswer, Situation
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

Invited = Callable[..., tuple[Invitation, str]]
FULL = {"welcome": "4", "content": "4", "trainers": "4", "equipment": "5", "support": "5",
        "would_recommend": "yes"}


def open_form(client: FlaskClient, token: str, path: str = "") -> tuple[str, str]:
    """Follow the email link; the form's HTML and its CSRF token."""
    assert client.get(f"/q/{token}{path}").status_code == 303
    page = client.get(f"/q/{path}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def count(model: type) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_star_link_preselects_and_records_nothing(client, invited: Invited) -> None:
    _, token = invited()
    html, _ = open_form(client, token, "?note=5")
    assert len(re.findall(r'<input checked id="\w+-4" name="\w+" required type="radio" '
                          r'value="5">', html)) == 5
    assert "Vous avez choisi 5 étoiles sur 5" in html
    assert count(Answer) == 0
    assert count(AnswerReceipt) == 0


def test_an_answer_is_stored_once_anonymously(client, invited: Invited) -> None:
    invitation, token = invited()
    db.session.add(OutboxMessage(invitation_id=invitation.id, sequence=1, template="reminder"))
    db.session.commit()
    _, csrf = open_form(client, token)
    response = client.post("/q/", data={**FULL, "csrf_token": csrf, "comment_title": " Bien ",
                                        "comment_text": "Très bonne formation.",
                                        "comment_public": "y", "accepts_contact": "y"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/q/merci"
    assert "Merci pour votre avis" in client.get("/q/merci").get_data(as_text=True)
    answer = db.session.scalars(sa.select(Answer)).one()
    assert (answer.welcome, answer.content, answer.trainers, answer.equipment,
            answer.support) == (4, 4, 4, 5, 5)
    assert answer.overall == decimal.Decimal("4.4")  # the mean, not rounded to 4
    assert answer.would_recommend is True
    assert answer.comment_title == "Bien"
    assert answer.comment_text == "Très bonne formation."
    assert answer.comment_public is True
    enrolment = db.session.get(Enrolment, invitation.enrolment_id)
    session_row = db.session.execute(sa.text(
        "SELECT a.id, a.course_id, a.training_body_id FROM sessions s "
        "JOIN actions a ON a.id = s.action_id WHERE s.id = :s"), {"s": enrolment.session_id}
    ).one()
    assert (answer.session_id, answer.action_id, answer.course_id,
            answer.training_body_id) == (enrolment.session_id, *session_row)
    # Nothing on the answer points to the trainee or the invitation.
    columns = set(Answer.__table__.columns.keys())
    assert not columns & {"trainee_id", "invitation_id", "enrolment_id", "email"}
    receipt = db.session.get(AnswerReceipt, invitation.id)
    assert receipt.accepts_contact is True
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.answered
    assert invitation.answered_dt is not None
    reminder = db.session.scalars(sa.select(OutboxMessage)).one()
    assert reminder.status == MessageStatus.cancelled
    # Reopening the link says it is done; posting again stores nothing.
    again = client.get(f"/q/{token}")
    assert again.status_code == 200
    assert "Merci, vous avez répondu" in again.get_data(as_text=True)
    client.post("/q/", data={**FULL, "csrf_token": csrf})
    assert count(Answer) == 1


def test_missing_and_wrong_marks_come_back_with_errors_and_the_typed_text(
        client, invited: Invited) -> None:
    _, token = invited()
    _, csrf = open_form(client, token)
    response = client.post("/q/", data={
        "csrf_token": csrf, "welcome": "6", "content": "0", "trainers": "abc",
        "equipment": "3", "comment_text": "<script>alert(1)</script> =HYPERLINK(\"x\")"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("Choisissez une note de 1 à 5.") >= 4  # welcome, content, trainers, support
    assert "Dites si vous recommanderiez cette formation." in html
    assert 'id="welcome-error"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; =HYPERLINK(&#34;x&#34;)" in html
    assert "<script>alert(1)" not in html
    assert 'checked id="equipment-2"' in html  # what was chosen is kept
    assert count(Answer) == 0


def test_comments_are_stored_as_typed(client, invited: Invited) -> None:
    _, token = invited()
    _, csrf = open_form(client, token)
    text = "<script>alert(1)</script>\n=HYPERLINK(\"http://x\")"
    client.post("/q/", data={**FULL, "csrf_token": csrf, "comment_text": text,
                             "comment_title": "<b>Titre</b>"})
    answer = db.session.scalars(sa.select(Answer)).one()
    assert answer.comment_text == text
    assert answer.comment_title == "<b>Titre</b>"


@pytest.mark.parametrize(("field", "size", "message"), [
    ("comment_title", 81, "Le titre est limité à 80 caractères."),
    ("comment_text", 2001, "Le commentaire est limité à 2000 caractères."),
])
def test_overlong_comments_are_refused(client, invited: Invited, field, size, message) -> None:
    _, token = invited()
    _, csrf = open_form(client, token)
    response = client.post("/q/", data={**FULL, "csrf_token": csrf, field: "é" * size})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Answer) == 0


def test_a_comment_not_to_publish_stays_private(client, invited: Invited) -> None:
    _, token = invited()
    _, csrf = open_form(client, token)
    client.post("/q/", data={**FULL, "csrf_token": csrf, "comment_text": "Privé"})
    assert db.session.scalars(sa.select(Answer.comment_public)).one() is False


def test_without_csrf_nothing_is_stored(client, invited: Invited) -> None:
    _, token = invited()
    open_form(client, token)
    response = client.post("/q/", data=FULL)
    assert response.status_code == 400
    assert count(Answer) == 0


def test_a_tampered_token_is_a_404(client, invited: Invited) -> None:
    _, token = invited()
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/q/{tampered}").status_code == 404
    assert client.get("/q/").status_code == 404


def test_erasing_the_trainee_keeps_the_anonymous_answer(client, invited: Invited) -> None:
    invitation, token = invited()
    _, csrf = open_form(client, token)
    client.post("/q/", data={**FULL, "csrf_token": csrf})
    trainee_id = db.session.get(Enrolment, invitation.enrolment_id).trainee_id
    db.session.execute(sa.delete(Trainee).where(Trainee.id == trainee_id))
    db.session.commit()
    assert count(Invitation) == 0
    assert count(AnswerReceipt) == 0
    assert count(Answer) == 1


def test_the_follow_up_questionnaire(client, invited: Invited) -> None:
    _, token = invited(kind=InvitationKind.follow_up)
    html, csrf = open_form(client, token)
    assert "Quelle est votre situation aujourd’hui ?" in html
    assert 'name="welcome"' not in html
    missing = client.post("/q/", data={"csrf_token": csrf})
    assert missing.status_code == 422
    assert "Choisissez votre situation." in missing.get_data(as_text=True)
    done = client.post("/q/", data={"csrf_token": csrf, "situation": "employed",
                                    "contract_type": "permanent", "job_related": "yes",
                                    "time_to_job": "under_1_month"})
    assert done.status_code == 303
    answer = db.session.scalars(sa.select(FollowUpAnswer)).one()
    assert answer.situation == Situation.employed
    assert (answer.contract_type, answer.job_related, answer.time_to_job) == (
        "permanent", "yes", "under_1_month")


def test_job_details_are_dropped_when_not_in_work(client, invited: Invited) -> None:
    _, token = invited(kind=InvitationKind.follow_up)
    _, csrf = open_form(client, token)
    client.post("/q/", data={"csrf_token": csrf, "situation": "job_seeking",
                             "contract_type": "permanent"})
    answer = db.session.scalars(sa.select(FollowUpAnswer)).one()
    assert answer.contract_type is None


def test_50_simultaneous_submissions_store_one_answer(app: Flask, invited: Invited,
                                                      database_url: str) -> None:
    _, token = invited()
    first = app.test_client()
    _, csrf = open_form(first, token)
    cookie = first.get_cookie("session").value

    def submit(n: int) -> int:
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = client.post("/q/", data={**FULL, "welcome": str(1 + n % 5),
                                            "csrf_token": csrf})
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        statuses = Counter(pool.map(submit, range(50)))
    assert count(Answer) == 1
    assert count(AnswerReceipt) == 1
    # One stored it; the others got the thank-you (redirect or the "answered" page).
    assert set(statuses) <= {303, 200}, statuses


def test_an_answer_is_two_statements_on_postgresql(app: Flask, client, invited: Invited,
                                                   database_url: str) -> None:
    """The invitation read, then receipt, answer, status and reminders in one statement."""
    invitation, token = invited()
    db.session.add(OutboxMessage(invitation_id=invitation.id, sequence=1, template="reminder"))
    db.session.commit()
    _, csrf = open_form(client, token)
    statements: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.post("/q/", data={**FULL, "csrf_token": csrf})
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert response.headers["Location"] == "/q/merci"
    expected = 2 if database_url.startswith("postgresql") else 5
    assert len(statements) == expected, statements
    assert count(Answer) == 1
    assert count(AnswerReceipt) == 1
    assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.answered
    assert db.session.scalar(sa.select(Invitation.answered_dt)) is not None
    reminder = db.session.scalars(sa.select(OutboxMessage)).one()
    assert (reminder.status, reminder.last_error) == (MessageStatus.cancelled, "answered")
