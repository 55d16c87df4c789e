"""No personal data in logs, errors or provider metadata, over a whole cycle.

One test drives the real code paths, every logger at DEBUG (see ``cycle.LEFT_AS_SET``
and ``cycle.AT_INFO`` for the two exceptions, and why): a France Travail file imported
with ``avis import trainees`` (two rows rejected, one because of its address); the jobs
run with ``avis jobs run-due``, invitations sent through SendGrid (the fake server
records the requests); a trainee opens the survey link and answers with a comment, on
a real HTTP server (the test client writes no access log); SendGrid posts a signed
bounce, and an unsigned batch is refused; another trainee unsubscribes from the link of
the email, then erases her own data; a moderator publishes the comment; reminders go
through SMTP, one refused by the server with the address in its reply; Region staff
download the lists of names, an admin the journal; ``avis gdpr export`` and ``erase``,
and the back-office erasure; the database goes away under a survey link (a 500); the
daily jobs run.

Then no email, first or last name, phone number or link token of any trainee may be
in any log record (message, arguments, traceback, extras), in what the commands print
(but ``avis gdpr export``, which is the person's own data), in the errors stored with
the emails, in the journal export, or in what SendGrid keeps beyond the message itself
(custom arguments, categories, the shared content).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from avis import clock, create_app
from avis.accounts.models import Account, Role
from avis.catalog.models.trainees import Trainee
from avis.db import db
from avis.mail.models import OutboxMessage
from avis.surveys.models.answers import Answer, CommentStatus
from tests.accounts.fixtures import Browser
from tests.catalog.fixtures import write_pe
from tests.mail.fake_sendgrid import FAKE_API_KEY, FakeSendGrid
from tests.mail.smtp_server import SMTPTestServer
from tests.privacy import cycle
from tests.privacy.cycle import (
    ANSWERS,
    BAD_EMAIL,
    BOUNCES,
    EVERYONE,
    IMPORTED,
    REFUSED,
    REMINDED,
    UNSUBSCRIBES,
    Visitor,
    csrf_token,
)

ANSWER = {"welcome": "4", "content": "5", "trainers": "4", "equipment": "3", "support": "5",
          "would_recommend": "yes", "comment_title": cycle.COMMENT_TITLE,
          "comment_text": cycle.COMMENT_TEXT, "comment_public": "y", "accepts_contact": "y"}
PERSONAL_DATA_PAGE = "/admin/donnees-personnelles"


def test_the_search_finds_what_a_log_would_hold() -> None:
    """The control: an address in arguments, a name as bytes, a token in a traceback."""
    token = "T0k3n-" + "x" * 37
    with cycle.every_logger_at_debug() as recorder:
        log = logging.getLogger("avis.tests.control")
        log.info("sent to %s", ANSWERS.email.upper())
        log.debug("%r", REMINDED.last_name.encode())
        try:
            raise ValueError(f"no invitation for /q/{token}")
        except ValueError:
            log.exception("failed")
        # The test's mail server logs every SMTP line it gets: it is not avis.
        logging.getLogger("mail.log").info("RCPT TO:<%s>", BOUNCES.email)
    found = cycle.search(recorder.texts(), {"email": ANSWERS.email, "name": REMINDED.last_name,
                                            "token": token, "other": BOUNCES.email})
    assert [leak.split(" in ")[0] for leak in found] == ["email", "name", "token"], found


def test_a_whole_cycle_logs_no_personal_data(
        app: Flask, runner: FlaskCliRunner, fake_sendgrid: FakeSendGrid,
        smtp_server: SMTPTestServer, signed_in: Callable[..., Browser], tmp_path: Path,
) -> None:
    key, public_key = cycle.webhook_key()
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=FAKE_API_KEY,
                      SENDGRID_HOST=fake_sendgrid.url, SENDGRID_WEBHOOK_PUBLIC_KEY=public_key)
    # The web pages run in the server's threads, on the real clock: the cycle starts now.
    t0 = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=2)
    today = t0.astimezone(clock.PARIS).date()
    #: (where, text) of what else must hold no personal data
    elsewhere: list[tuple[str, str]] = []
    tokens: dict[str, set[str]] = {}

    def command(*args: str) -> str:
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        elsewhere.append((f"the output of avis {' '.join(args[:2])}", result.output))
        return result.output

    with cycle.every_logger_at_debug() as recorder:
        # --- Import: five trainees, two rows rejected -----------------------------------
        path = write_pe(tmp_path / "export-ft.txt",
                        cycle.file_rows(today - dt.timedelta(days=92),
                                        today - dt.timedelta(days=2)))
        with clock.frozen_at(t0):
            summary = command("import", "trainees", str(path), "--format", "pe",
                              "--campaign", "automne")
        assert "5 importées" in summary, summary
        assert "2 rejetées" in summary, summary
        # The reason quotes the invalid address: in the file for staff, not in a log.
        rejected = path.with_name(path.name + ".rejected.csv").read_text(encoding="utf-8-sig")
        assert f"adresse e-mail invalide : «{BAD_EMAIL.email}»" in rejected

        # --- Invitations, through SendGrid ----------------------------------------------
        command("jobs", "run-due", "--now", t0.isoformat())
        invitation_of: dict[str, str] = {}
        message_of: dict[str, str] = {}
        for message_id, personalization in fake_sendgrid.deliveries:
            [to] = personalization["to"]
            address = to["email"]
            tokens.setdefault(address, set()).update(
                cycle.tokens_in(json.dumps(personalization)))
            invitation_of[address] = personalization["custom_args"]["invitation"]
            message_of[address] = message_id
        assert sorted(invitation_of) == sorted(p.email for p in IMPORTED)
        for body in fake_sendgrid.accepted_requests:
            # What SendGrid keeps beyond the message, in its events and activity: custom
            # arguments, categories, the content shared by the request (tags only).
            shared = {name: value for name, value in body.items() if name != "personalizations"}
            elsewhere.append(("a SendGrid request (all but its personalizations)",
                              json.dumps(shared, ensure_ascii=False)))
            assert body["tracking_settings"]["click_tracking"]["enable"] is False
            for personalization in body["personalizations"]:
                assert set(personalization) <= {"to", "subject", "custom_args",
                                                "substitutions", "headers"}
                assert list(personalization["custom_args"]) == ["invitation"]
                assert personalization["custom_args"]["invitation"].isdigit()

        # --- The trainees' side, on a real server ---------------------------------------
        with cycle.live_server(app) as url:
            zephyrine = Visitor(url)
            [link] = tokens[ANSWERS.email]
            status, where, page = zephyrine.get(f"/q/{link}")
            assert (status, where) == (200, "/q/"), page[:300]
            status, where, page = zephyrine.post("/q/", {**ANSWER,
                                                         "csrf_token": csrf_token(page)})
            assert (status, where) == (200, "/q/merci"), page[:300]

            ondine = Visitor(url)
            [link] = tokens[UNSUBSCRIBES.email]
            status, _where, page = ondine.get(f"/unsubscribe/{link}")
            assert status == 200
            status, _where, page = ondine.post(f"/unsubscribe/{link}",
                                               {"csrf_token": csrf_token(page)})
            assert status == 200, page[:300]
            status, _where, page = ondine.get(f"/unsubscribe/{link}/supprimer")
            assert status == 200
            status, _where, page = ondine.post(f"/unsubscribe/{link}/supprimer",
                                               {"csrf_token": csrf_token(page)})
            assert status == 200, page[:300]

        # --- SendGrid's events: deliveries, a bounce; a batch signed by someone else ----
        now = dt.datetime.now(dt.UTC)

        def event(person: cycle.Person, kind: str, n: int, **extra: str) -> dict[str, object]:
            return {"email": person.email, "timestamp": int(now.timestamp()), "event": kind,
                    "sg_event_id": f"evt-{kind}-{n}", "invitation": invitation_of[person.email],
                    "sg_message_id": f"{message_of[person.email]}.filterdrecv-1.2.3.0",
                    "category": ["invitation"], **extra}

        payload = json.dumps([
            event(ANSWERS, "delivered", 1), event(REMINDED, "delivered", 2),
            event(REFUSED, "delivered", 3),
            event(BOUNCES, "bounce", 4, type="bounce", status="5.1.1",
                  reason=f"550 5.1.1 <{BOUNCES.email}>: Recipient address rejected: "
                         f"User unknown ({BOUNCES.first_name} {BOUNCES.last_name})")])
        client = app.test_client()
        answered = client.post("/webhooks/sendgrid", data=payload,
                               headers=cycle.signed_headers(key, payload, now))
        assert answered.status_code == 200
        assert answered.get_json()["applied"] == 4
        forged = cycle.signed_headers(cycle.webhook_key()[0], payload, now)
        assert client.post("/webhooks/sendgrid", data=payload,
                           headers=forged).status_code == 403

        # --- Moderation -----------------------------------------------------------------
        with app.app_context():
            answer_id = db.session.scalar(sa.select(Answer.id).where(
                Answer.comment_text == cycle.COMMENT_TEXT))
        assert answer_id is not None
        moderator = signed_in(Role.moderator, region="52")
        decided = moderator.submit(f"/admin/moderation/{answer_id}/publier",
                                   {"qualification": "positive"},
                                   form_page=f"/admin/moderation/{answer_id}")
        assert decided.status_code == 303
        with app.app_context():
            assert db.session.get(Answer, answer_id).comment_status == CommentStatus.published
        command("jobs", "run-due", "--now", (t0 + dt.timedelta(hours=1)).isoformat())

        # --- Reminders through SMTP, one refused with the address in the reply ----------
        app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host,
                          SMTP_PORT=smtp_server.port)
        smtp_server.refuse(REFUSED.email, 550)
        command("jobs", "run-due", "--now", (t0 + dt.timedelta(days=5, hours=1)).isoformat())
        assert [r.rcpt_tos for r in smtp_server.received] == [[REMINDED.email]]
        for received in smtp_server.received:
            tokens[REMINDED.email].update(cycle.tokens_in(cycle.message_text(received.message)))
        assert len(tokens[REMINDED.email]) == 2
        with app.app_context():
            errors = db.session.scalars(sa.select(OutboxMessage.last_error).where(
                OutboxMessage.last_error.is_not(None))).all()
        assert errors
        assert all("[redacted]" in error for error in errors), errors
        elsewhere += [("an error stored with an email", error) for error in errors]

        # --- Staff exports --------------------------------------------------------------
        region = signed_in(Role.region, region="52")
        with app.app_context():
            db.session.get(Account, region.account.id).can_see_personal_data = True
            db.session.commit()
        exports = {}
        for list_path in ("/admin/listes/non-repondants", "/admin/listes/adresses-en-echec"):
            response = region.get(f"{list_path}?noms=1&format=csv")
            assert response.status_code == 200
            exports[list_path] = response.get_data(as_text=True)
        # Lists of names and emails, as they should be (they are not searched).
        assert BOUNCES.email in exports["/admin/listes/adresses-en-echec"]
        assert REFUSED.email in exports["/admin/listes/non-repondants"]
        admin = signed_in(Role.admin)
        journal = admin.get("/admin/journal.csv")
        assert journal.status_code == 200
        elsewhere.append(("the journal export", journal.get_data(as_text=True)))

        # --- Access and erasure ---------------------------------------------------------
        own = runner.invoke(args=["gdpr", "export", "--email", REFUSED.email])
        # The person's own data, printed to the operator who asked: not searched.
        assert own.exit_code == 0
        assert REFUSED.last_name in own.output
        command("gdpr", "erase", "--email", ANSWERS.email)
        shown = admin.submit(PERSONAL_DATA_PAGE, {"email": REMINDED.email})
        assert REMINDED.last_name in shown.get_data(as_text=True)
        erased = admin.submit(f"{PERSONAL_DATA_PAGE}/effacer",
                              {"email": REMINDED.email, "confirmed": "y"},
                              form_page=PERSONAL_DATA_PAGE)
        assert erased.status_code == 200
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).where(
                Trainee.erased_dt.is_not(None))) == 3

        # --- The database goes away under a survey link ---------------------------------
        outage = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'gone' / 'avis.db'}",
                             "SECRET_KEY": "test-secret"}, instance_path=tmp_path / "outage")
        [link] = tokens[REFUSED.email]
        assert outage.test_client().get(f"/q/{link}").status_code == 500
        assert outage.test_client().post(f"/unsubscribe/{link}", data={
            "List-Unsubscribe": "One-Click"}).status_code == 500

        # --- The daily jobs after all that ----------------------------------------------
        command("jobs", "run-due", "--now", (t0 + dt.timedelta(days=6, hours=3)).isoformat())

    # --- What was looked for, and where -------------------------------------------------
    every_token = set().union(*tokens.values())
    assert len(every_token) == 6
    needles = {label: value for person in EVERYONE for label, value in person.needles().items()}
    needles.update({f"a link token ({token[:4]}…)": token for token in every_token})

    # The capture works: what avis logs at each step is there, tokens hidden.
    def logged(logger: str, text: str) -> None:
        messages = recorder.messages(logger)
        assert any(text in message for message in messages), (logger, text, messages[:20])

    logged("avis.mail.backends.sendgrid", "SendGrid batch of 5: sent")
    logged("avis.mail.events", "'applied': 4")
    logged("avis.mail.webhook", "sendgrid webhook refused: bad signature")
    logged("avis.mail.backends.smtp", "SMTP batch of 2: ")
    logged("werkzeug", "GET /q/… HTTP/1.1")
    logged("werkzeug", "POST /unsubscribe/… HTTP/1.1")
    logged("werkzeug", "POST /unsubscribe/…/supprimer HTTP/1.1")
    logged("sqlalchemy.engine.Engine", "[SQL parameters hidden due to hide_parameters=True]")
    logged("avis", "Exception on /q/… [GET]")
    logged("avis", "Exception on /unsubscribe/… [POST]")
    assert any(record.level == logging.DEBUG for record in recorder.records)

    leaks = cycle.search(recorder.texts() + elsewhere, needles)
    assert leaks == [], "\n".join(leaks[:30])
