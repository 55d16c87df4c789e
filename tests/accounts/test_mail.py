"""Account emails through each backend (the file mailbox, a real SMTP server, SendGrid's
API faked on loopback), their failures and retries, and the lease of a sender that died.

The helpers that read emails and their links are shared with the other account tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts import operations
from avis.accounts.mail import MAX_ATTEMPTS, dispatch
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountMessageStatus,
    AccountStatus,
    AccountToken,
    Role,
    TokenPurpose,
)
from avis.db import db
from avis.mail.backends.file import MAILBOX_DIRNAME
from tests.accounts.fixtures import PASSWORD, Browser
from tests.mail.fake_sendgrid import FAKE_API_KEY, FakeSendGrid
from tests.mail.smtp_server import SMTPTestServer

#: ``BASE_URL`` of the test application (the setting's default).
BASE_URL = "http://127.0.0.1:5000"
#: ``secrets.token_urlsafe(32)``: 43 characters of the URL-safe alphabet.
_LINK = re.compile(r"(https?://[^\s\"<>]+)/login/lien/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
NEW_PASSWORD = "Ecureuil-Marmite-Violette-58"

ACTIVATION_SUBJECT = "Votre compte avis : choisissez votre mot de passe"
REMINDER_SUBJECT = "Rappel : votre compte avis vous attend"
RESET_SUBJECT = "Choisissez un nouveau mot de passe pour avis"


# --- Helpers shared with the other account tests -------------------------------------

def mailbox(instance_path: Path) -> list[EmailMessage]:
    """Every email the file backend wrote, oldest first (file names start with the time)."""
    directory = instance_path / MAILBOX_DIRNAME
    if not directory.exists():
        return []
    messages = []
    for path in sorted(directory.glob("*.eml")):
        with path.open("rb") as file:
            message = BytesParser(policy=default_policy).parse(file)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts, line ends as written by the template."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return (text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n"))


def token_in(message: EmailMessage, base_url: str = BASE_URL) -> str:
    """The token of the one link in the email; the HTML button carries the same link."""
    text, html = parts(message)
    found = _LINK.findall(text)
    assert len(found) == 1, found
    [(base, token)] = found
    assert base == base_url
    assert f'href="{base_url}/login/lien/{token}"' in html
    return token


def sent_tokens(instance_path: Path) -> list[str]:
    return [token_in(message) for message in mailbox(instance_path)]


def choose_password(client: Browser, token: str, password: str = NEW_PASSWORD,
                    confirm: str | None = None) -> tuple[int, int]:
    """Follow an emailed link and choose a password, as a person would: the statuses of
    the link and of the form's submission."""
    opened = client.get(f"/login/lien/{token}")
    if opened.status_code != 303:
        return opened.status_code, 0
    assert opened.headers["Location"] == "/login/mot-de-passe"
    saved = client.submit("/login/mot-de-passe",
                          {"password": password, "confirm": password if confirm is None
                           else confirm})
    return opened.status_code, saved.status_code


def messages(app: Flask) -> list[tuple[str, str, int]]:
    """(kind, status, attempts) of every account email, in queueing order."""
    with app.app_context():
        rows = db.session.execute(sa.select(AccountMessage.kind, AccountMessage.status,
                                            AccountMessage.attempts)
                                  .order_by(AccountMessage.id)).all()
    return [(str(kind), str(status), attempts) for kind, status, attempts in rows]


def send(app: Flask, moment: dt.datetime | None = None) -> dict[str, int]:
    """Run the account mail dispatch in its own app context (at ``moment``)."""
    with app.app_context(), clock.frozen_at(moment or clock.now()):
        return dispatch()


def invite(app: Flask, email: str, role: Role = Role.region, *, name: str | None = None,
           **scope: object) -> Account:
    """An invited account (its activation email queued), created as the CLI would."""
    scope = {"region": "52"} if role == Role.region and not scope else scope
    with app.app_context():
        account = operations.create(
            email, operations.AccountScope.build(role, **scope),  # type: ignore[arg-type]
            name=name, actor_role="cli")
        db.session.commit()
        return account


# --- File backend: the content ---------------------------------------------------------

def test_activation_email_in_french_with_both_parts_and_the_link(
        app: Flask, instance_path: Path) -> None:
    app.config["BASE_URL"] = "https://avis.example.fr"
    invite(app, "l'equipe&co@example.org", name="Marie Dupont")

    assert send(app) == {"sent": 1}

    [message] = mailbox(instance_path)
    assert message["From"] == "avis <avis@localhost>"
    assert message["To"] == "Marie Dupont <l'equipe&co@example.org>"
    assert message["Subject"] == ACTIVATION_SUBJECT
    token = token_in(message, "https://avis.example.fr")
    text, html = parts(message)
    assert text == (
        "Votre compte avis\n"
        "\n"
        "Bonjour,\n"
        "\n"
        "Un compte vous a été ouvert sur avis, le service qui recueille et publie les avis "
        "des anciens stagiaires des formations financées.\n"
        "\n"
        "Votre adresse de connexion : l'equipe&co@example.org\n"
        "\n"
        "Choisissez votre mot de passe avec ce lien (il fonctionne une seule fois, pendant "
        "7 jours) :\n"
        "\n"
        f"https://avis.example.fr/login/lien/{token}\n"
        "\n"
        "Connectez-vous ensuite sur https://avis.example.fr/login\n"
        "\n"
        "--\n"
        "avis — les avis sur les formations financées. Ce courriel vous est envoyé parce "
        "qu’un compte existe pour cette adresse.\n"
        "Confidentialité : https://avis.example.fr/confidentialite\n"
    )
    assert '<html lang="fr"' in html
    assert "Votre adresse de connexion : l&#39;equipe&amp;co@example.org" in html
    # The address is never in the markup unescaped: a '&' there would start an entity.
    assert "l'equipe&co" not in html
    assert ">Choisir mon mot de passe</a>" in html
    assert "Ce lien fonctionne une seule fois, pendant 7 jours." in html
    assert "[[" not in text + html


def test_a_training_body_is_told_why_it_has_an_account(app: Flask,
                                                       instance_path: Path) -> None:
    invite(app, "contact@organisme.example.org", Role.organisation,
           establishment="12345678200010")

    send(app)

    [message] = mailbox(instance_path)
    text, html = parts(message)
    intro = ("D’anciens stagiaires de votre organisme ont donné leur avis sur leur formation "
             "sur avis, le service de la Région et de France Travail qui publie leurs avis. "
             "Avec ce compte, vous pouvez les lire, voir vos notes et y répondre.")
    assert intro in text
    assert "Un compte vous a été ouvert" not in text
    assert intro in " ".join(html.split())


def test_reset_and_reminder_emails(app: Flask, make_account: Callable[..., Account],
                                   instance_path: Path) -> None:
    active = make_account(Role.moderator, "marie@example.org")
    waiting = invite(app, "body@example.org", Role.organisation, establishment="123456782")
    with app.app_context():
        operations.queue_mail(db.session.get(Account, active.id), AccountMail.reset)
        operations.queue_mail(db.session.get(Account, waiting.id),
                              AccountMail.activation_reminder)
        db.session.commit()

    assert send(app) == {"sent": 3}

    by_subject = {message["Subject"]: message for message in mailbox(instance_path)}
    assert sorted(by_subject) == sorted([ACTIVATION_SUBJECT, REMINDER_SUBJECT, RESET_SUBJECT])
    reset_text, _ = parts(by_subject[RESET_SUBJECT])
    assert reset_text.startswith("Choisissez un nouveau mot de passe\n\nBonjour,\n\n"
                                 "Quelqu’un, sans doute vous, a demandé à choisir un nouveau "
                                 "mot de passe pour le compte avis de marie@example.org.\n")
    assert ("Choisissez votre nouveau mot de passe avec ce lien (il fonctionne une seule fois, "
            "pendant 60 minutes) :") in reset_text
    reminder_text, _ = parts(by_subject[REMINDER_SUBJECT])
    assert "pendant 7 jours" in reminder_text
    with app.app_context():
        purposes = {account_id: str(purpose) for account_id, purpose in db.session.execute(
            sa.select(AccountToken.account_id, AccountToken.purpose)
            .where(AccountToken.account_id == active.id))}
    assert purposes == {active.id: "reset"}
    # Each link opens the page of its own purpose.
    for subject, heading in ((RESET_SUBJECT, "Choisissez un nouveau mot de passe"),
                             (REMINDER_SUBJECT, "Choisissez votre mot de passe")):
        client = Browser(app.test_client())
        assert client.get(f"/login/lien/{token_in(by_subject[subject])}").status_code == 303
        page = client.get("/login/mot-de-passe").get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in page


def test_an_email_queued_in_english_is_written_in_english(app: Flask,
                                                          instance_path: Path) -> None:
    account = invite(app, "jane@example.org")
    with app.app_context():
        db.session.execute(sa.update(AccountMessage).values(locale="en"))
        db.session.commit()

    send(app)

    [message] = mailbox(instance_path)
    assert message["Subject"] == "Your avis account: choose your password"
    text, _ = parts(message)
    assert text.startswith("Your avis account\n\nHello,\n")
    assert account.email in text


# --- SMTP and SendGrid -------------------------------------------------------------------

def test_sent_over_smtp_to_a_real_server(app: Flask, smtp_server: SMTPTestServer,
                                         browser: Callable[[], Browser]) -> None:
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host,
                      SMTP_PORT=smtp_server.port)
    account = invite(app, "Paul.Martin@Example.org", name="Paul Martin")

    assert send(app) == {"sent": 1}

    [received] = smtp_server.received
    assert received.mail_from == "avis@localhost"
    assert received.rcpt_tos == ["paul.martin@example.org"]
    assert received.message["To"] == "Paul Martin <paul.martin@example.org>"
    assert received.message["Subject"] == ACTIVATION_SUBJECT
    token = token_in(received.message)
    with app.app_context():
        [stored] = db.session.scalars(sa.select(AccountToken)).all()
        assert stored.digest == hashlib.sha256(token.encode()).digest()
        assert stored.purpose == TokenPurpose.activation
    assert messages(app) == [("activation", "sent", 1)]
    assert choose_password(browser(), token) == (303, 200)
    with app.app_context():
        assert db.session.get(Account, account.id).status == AccountStatus.active


def test_sent_through_sendgrid_without_custom_args_or_click_tracking(
        app: Flask, fake_sendgrid: FakeSendGrid) -> None:
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=FAKE_API_KEY,
                      SENDGRID_HOST=fake_sendgrid.url)
    invite(app, "paul@example.org", name="Paul Martin")

    assert send(app) == {"sent": 1}

    [body] = fake_sendgrid.accepted_requests
    # Exactly these keys: no custom_args (SendGrid keeps them in its events for good),
    # no substitutions, no headers.
    assert body["personalizations"] == [{"to": [{"email": "paul@example.org",
                                                 "name": "Paul Martin"}],
                                         "subject": ACTIVATION_SUBJECT}]
    assert "custom_args" not in body
    # Click tracking would rewrite the link, and SendGrid would hold the token.
    assert body["tracking_settings"] == {"click_tracking": {"enable": False,
                                                            "enable_text": False}}
    assert body["categories"] == ["account_activation"]
    assert body["from"] == {"email": "avis@localhost", "name": "avis"}
    [text, html] = body["content"]
    assert text["type"] == "text/plain"
    assert html["type"] == "text/html"
    [(base, token)] = _LINK.findall(text["value"])
    assert base == BASE_URL
    assert f'href="{BASE_URL}/login/lien/{token}"' in html["value"]
    assert messages(app) == [("activation", "sent", 1)]


def test_a_name_with_a_comma_still_reaches_sendgrid(app: Flask,
                                                    fake_sendgrid: FakeSendGrid) -> None:
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=FAKE_API_KEY,
                      SENDGRID_HOST=fake_sendgrid.url)
    invite(app, "marie@example.org", name="Dupont, Marie; RH")

    assert send(app) == {"sent": 1}

    [body] = fake_sendgrid.accepted_requests
    assert body["personalizations"][0]["to"] == [{"email": "marie@example.org",
                                                  "name": "Dupont Marie RH"}]


# --- Failures ------------------------------------------------------------------------------

@pytest.fixture
def sendgrid_app(app: Flask, fake_sendgrid: FakeSendGrid) -> Flask:
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=FAKE_API_KEY,
                      SENDGRID_HOST=fake_sendgrid.url)
    return app


def next_attempt(app: Flask) -> tuple[str, dt.datetime, str | None]:
    with app.app_context():
        message = db.session.scalars(sa.select(AccountMessage)).one()
        return str(message.status), message.next_attempt_dt, message.last_error


def test_a_server_error_is_retried_after_a_back_off(sendgrid_app: Flask,
                                                    fake_sendgrid: FakeSendGrid) -> None:
    invite(sendgrid_app, "paul@example.org")
    fake_sendgrid.script(["500"])
    start = clock.now()

    assert send(sendgrid_app, start) == {"retry": 1}

    status, moment, error = next_attempt(sendgrid_app)
    assert (status, error) == ("queued", "HTTP 500")
    # One minute, ±10 % of jitter.
    assert start + dt.timedelta(seconds=54) <= moment <= start + dt.timedelta(seconds=66)
    assert messages(sendgrid_app) == [("activation", "queued", 1)]
    assert send(sendgrid_app, start + dt.timedelta(seconds=53)) == {}
    assert fake_sendgrid.request_count == 1

    assert send(sendgrid_app, start + dt.timedelta(seconds=67)) == {"sent": 1}
    assert messages(sendgrid_app) == [("activation", "sent", 2)]
    assert len(fake_sendgrid.accepted_requests) == 1


def test_a_refused_request_fails_at_once(sendgrid_app: Flask,
                                         fake_sendgrid: FakeSendGrid) -> None:
    invite(sendgrid_app, "paul@example.org")
    fake_sendgrid.script(["400"])
    start = clock.now()

    assert send(sendgrid_app, start) == {"failed": 1}

    assert next_attempt(sendgrid_app)[0::2] == ("failed", "HTTP 400: Bad Request")
    assert messages(sendgrid_app) == [("activation", "failed", 1)]
    assert send(sendgrid_app, start + dt.timedelta(days=1)) == {}
    assert fake_sendgrid.request_count == 1


def test_after_six_attempts_the_message_fails(sendgrid_app: Flask,
                                              fake_sendgrid: FakeSendGrid) -> None:
    invite(sendgrid_app, "paul@example.org")
    fake_sendgrid.fail_randomly(1.0, modes=("500",))
    moment = clock.now()
    outcomes = []
    for _ in range(MAX_ATTEMPTS + 1):
        outcomes.append(send(sendgrid_app, moment))
        moment += dt.timedelta(hours=4)  # past every back-off

    assert MAX_ATTEMPTS == 6
    assert outcomes == [{"retry": 1}] * 5 + [{"failed": 1}, {}]
    assert fake_sendgrid.request_count == 6
    assert messages(sendgrid_app) == [("activation", "failed", 6)]
    assert next_attempt(sendgrid_app)[0::2] == ("failed", "HTTP 500")


def test_an_email_of_an_account_disabled_before_sending_is_cancelled(
        app: Flask, instance_path: Path) -> None:
    account = invite(app, "paul@example.org")
    with app.app_context():
        operations.disable(db.session.get(Account, account.id), by=None, actor_role="cli")
        db.session.commit()

    assert messages(app) == [("activation", "cancelled", 0)]
    assert send(app) == {}
    assert mailbox(instance_path) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 0


def test_an_email_of_an_account_activated_before_sending_is_cancelled(
        app: Flask, instance_path: Path, browser: Callable[[], Browser]) -> None:
    account = invite(app, "paul@example.org")
    send(app)
    [first] = sent_tokens(instance_path)
    with app.app_context():
        # Staff sent the activation again; the person meanwhile used the first email.
        operations.resend_activation(db.session.get(Account, account.id), by=None)
        db.session.commit()
    assert choose_password(browser(), first) == (303, 200)

    assert send(app) == {"cancelled": 1}

    assert messages(app) == [("activation", "sent", 1), ("activation", "cancelled", 1)]
    assert len(mailbox(instance_path)) == 1
    with app.app_context():
        assert db.session.scalars(sa.select(AccountMessage.last_error)
                                  .order_by(AccountMessage.id)).all() == [
            None, "no longer needed"]
        # No link was minted for the cancelled email.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 1


def test_dispatching_twice_sends_nothing_twice(app: Flask, instance_path: Path) -> None:
    invite(app, "paul@example.org")

    assert send(app) == {"sent": 1}
    assert send(app) == {}
    assert send(app, clock.now() + dt.timedelta(days=1)) == {}

    assert len(mailbox(instance_path)) == 1
    assert messages(app) == [("activation", "sent", 1)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 1


# --- A sender that dies mid-send -----------------------------------------------------------

_SENDER = """
import sys
from avis import create_app
from avis.accounts.jobs import dispatch_account_mail

url, key, host, instance = sys.argv[1:]
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "MAIL_BACKEND": "sendgrid",
                  "SENDGRID_API_KEY": key, "SENDGRID_HOST": host}, instance_path=instance)
with app.app_context():
    dispatch_account_mail()
"""


def kill_mid_send(app: Flask, fake: FakeSendGrid, database_url: str,
                  instance: Path) -> dt.datetime:
    """Start a sender in another process and kill it while SendGrid holds its request;
    its claim ends five minutes after it was made, between the start and the kill."""
    started = clock.now()
    fake.hang_seconds = 60
    fake.script(["timeout"])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AVIS_")},
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    sender = subprocess.Popen(
        [sys.executable, "-c", _SENDER, database_url, FAKE_API_KEY, fake.url, str(instance)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while fake.request_count < 1:
            assert sender.poll() is None, "the sender stopped"
            assert time.monotonic() < deadline, "the sender never sent"
            time.sleep(0.05)
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait()
    killed = clock.now()
    ends = lease_end(app)
    assert started + dt.timedelta(minutes=5) <= ends <= killed + dt.timedelta(minutes=5)
    return ends


def lease_end(app: Flask) -> dt.datetime:
    with app.app_context():
        message = db.session.scalars(sa.select(AccountMessage)).one()
        assert (message.status, message.attempts) == (AccountMessageStatus.sending, 1)
        assert message.lease_expires_dt is not None
        return message.lease_expires_dt


def test_a_message_left_sending_by_a_dead_sender_is_sent_once_after_the_lease(
        sendgrid_app: Flask, fake_sendgrid: FakeSendGrid, database_url: str,
        tmp_path: Path, browser: Callable[[], Browser]) -> None:
    account = invite(sendgrid_app, "paul@example.org")
    ends = kill_mid_send(sendgrid_app, fake_sendgrid, database_url, tmp_path)

    assert send(sendgrid_app, ends - dt.timedelta(seconds=1)) == {}
    assert send(sendgrid_app, ends) == {"sent": 1}
    assert send(sendgrid_app, ends + dt.timedelta(hours=1)) == {}

    assert fake_sendgrid.request_count == 2
    [body] = fake_sendgrid.accepted_requests
    assert body["personalizations"][0]["to"] == [{"email": "paul@example.org"}]
    assert messages(sendgrid_app) == [("activation", "sent", 2)]
    [(_, token)] = _LINK.findall(body["content"][0]["value"])
    assert choose_password(browser(), token) == (303, 200)
    with sendgrid_app.app_context():
        assert db.session.get(Account, account.id).status == AccountStatus.active


def test_a_dead_sender_s_message_of_a_since_disabled_account_is_cancelled(
        sendgrid_app: Flask, fake_sendgrid: FakeSendGrid, database_url: str,
        tmp_path: Path) -> None:
    account = invite(sendgrid_app, "paul@example.org")
    ends = kill_mid_send(sendgrid_app, fake_sendgrid, database_url, tmp_path)
    with sendgrid_app.app_context():
        operations.disable(db.session.get(Account, account.id), by=None, actor_role="cli")
        db.session.commit()

    assert send(sendgrid_app, ends) == {"cancelled": 1}

    assert fake_sendgrid.request_count == 1
    assert fake_sendgrid.accepted_requests == []
    assert messages(sendgrid_app) == [("activation", "cancelled", 2)]


def test_an_account_created_with_its_password_gets_no_email(app: Flask,
                                                           instance_path: Path) -> None:
    with app.app_context():
        operations.create("paul@example.org", operations.AccountScope(Role.admin),
                          password=PASSWORD, actor_role="cli")
        db.session.commit()

    assert send(app) == {}
    assert mailbox(instance_path) == []
