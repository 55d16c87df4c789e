"""The whole path with the other backends: queued → SMTP server / mailbox file → a
link that opens the questionnaire."""

from __future__ import annotations

import datetime as dt
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.db import db
from avis.mail.dispatch import dispatch
from avis.mail.models import MessageStatus, OutboxMessage
from avis.surveys.jobs import create_end_of_training_invitations
from avis.surveys.models.invitations import Invitation
from tests.mail.smtp_server import SMTPTestServer
from tests.surveys.fixtures import create_session, enrol


def text_part(path: Path) -> str:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    return message.get_body(("plain",)).get_content()


LINK = re.compile(r"https?://[^/\s]+(/q/[A-Za-z0-9_\-]+)")


def test_smtp_dispatch_sends_working_links(app: Flask, smtp_server: SMTPTestServer) -> None:
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host,
                      SMTP_PORT=smtp_server.port, BASE_URL="https://avis.example")
    with app.app_context():
        session = create_session(clock.today() - dt.timedelta(days=2),
                                 course_title="Soudeur <TIG>")
        enrol(session, "a@example.org")
        enrol(session, "b@example.org")
        db.session.commit()
        create_end_of_training_invitations()
        assert dispatch() == {"sent": 2}
        statuses = set(db.session.scalars(sa.select(OutboxMessage.status)))
        assert statuses == {MessageStatus.sent}
    messages = smtp_server.messages
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "a@example.org", "b@example.org"]
    text = messages[0].get_body(("plain",)).get_content()
    html = messages[0].get_body(("html",)).get_content()
    assert "Soudeur <TIG>" in text
    assert "Soudeur &lt;TIG&gt;" in html
    assert messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = LINK.search(text).group(1)
    assert f"https://avis.example{path}" in html
    response = app.test_client().get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/q/"
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.clicked_dt).where(
            Invitation.clicked_dt.is_not(None))) is not None


def test_each_email_carries_its_own_token(app: Flask, instance_path: Path) -> None:
    with app.app_context():
        enrol(create_session(clock.today() - dt.timedelta(days=2)), "a@example.org")
        db.session.commit()
        moment = clock.now()
        create_end_of_training_invitations()
        dispatch()
        with clock.frozen_at(moment + dt.timedelta(days=5, minutes=1)):
            from avis.surveys.jobs import queue_reminders

            queue_reminders()
            dispatch()
    links = [LINK.search(text_part(p)).group(1)
             for p in sorted((instance_path / "mailbox").glob("*.eml"))]
    assert len(links) == 2
    assert links[0] != links[1]
    client = app.test_client()
    assert [client.get(link).status_code for link in links] == [303, 303]


def test_mail_status_lists_failures(app: Flask, runner) -> None:
    with app.app_context():
        enrol(create_session(clock.today() - dt.timedelta(days=2)))
        db.session.commit()
        create_end_of_training_invitations()
        db.session.execute(sa.update(OutboxMessage).values(
            status=MessageStatus.failed, attempts=6, last_error="HTTP 503 (after 6 attempts)"))
        db.session.commit()
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0
    assert "failed 1" in result.output
    assert "HTTP 503 (after 6 attempts)" in result.output


def test_each_subject_holds_its_own_session_and_values(app: Flask, instance_path: Path) -> None:
    """Subjects are made once per session in a batch: never one session's for another,
    and a title that holds a tag still gets each recipient's own value, as before."""
    ended = clock.today() - dt.timedelta(days=2)
    with app.app_context():
        for title in ("Soudure TIG", "Cuisine", "Titre [[link_text]]"):
            session = create_session(ended, course_title=title)
            for _ in range(2):
                enrol(session)
        db.session.commit()
        create_end_of_training_invitations()
        assert dispatch() == {"sent": 6}
    subjects: dict[str, list[str]] = {}
    for path in sorted((instance_path / "mailbox").glob("*.eml")):
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        link = LINK.search(message.get_body(("plain",)).get_content()).group(1)
        subjects.setdefault(link, []).append(str(message["Subject"]))
    all_subjects = [s for group in subjects.values() for s in group]
    assert sum("Soudure TIG" in s for s in all_subjects) == 2
    assert sum("Cuisine" in s for s in all_subjects) == 2
    tagged = [(link, s) for link, group in subjects.items() for s in group if "Titre" in s]
    assert len(tagged) == 2
    for link, subject in tagged:
        assert link in subject


def test_the_claim_says_the_due_index_predicate() -> None:
    """The claim repeats the partial index's statuses so that PostgreSQL can use it."""
    from avis.mail import outbox
    from avis.mail.models import DUE_STATUSES

    assert re.findall(r"'(\w+)'", DUE_STATUSES) == [status.value for status in outbox.DUE]
