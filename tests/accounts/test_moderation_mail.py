"""The two account emails without a token: the moderation backlog (to moderators) and a
report's decision (to the training body that reported). Sent through the account-mail
dispatch and its backends like the others; never a sign-in link, never to a disabled
account or a suppressed address, never a trainee's data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts import operations as account_operations
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountToken,
    Role,
)
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import suppress
from avis.moderation import operations, replies, reports
from avis.moderation.statistics import email_backlog
from avis.surveys.models.answers import CommentStatus
from tests.accounts.fixtures import create_account
from tests.accounts.test_mail import BASE_URL, mailbox, messages, parts, send
from tests.mail.smtp_server import SMTPTestServer
from tests.moderation.test_statistics import NOW, History, build_history
from tests.public.fixtures import ANGERS, add_answer, add_body, add_offer

#: What a sign-in link looks like: none of these emails carries one.
_SIGN_IN_LINK = re.compile(r"/login/lien")


def english(app: Flask) -> None:
    """Write the queued emails in English (the tests read English)."""
    with app.app_context():
        db.session.execute(sa.update(AccountMessage).values(locale="en"))
        db.session.commit()


def no_token(app: Flask, *texts: str) -> None:
    for text in texts:
        assert not _SIGN_IN_LINK.search(text)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 0


# --- The moderation backlog ---------------------------------------------------------------

@pytest.fixture
def backlog(app: Flask) -> History:
    """Région 52 has a comment (5 days), a reply (72 hours) and a report (49 hours)
    overdue; région 53 nothing. The job has queued its emails (and only those: the
    history's reports decided have told their body already)."""
    with app.app_context():
        history = build_history()
        db.session.execute(sa.delete(AccountMessage))
        with clock.frozen_at(NOW):
            operations.publish(history.elsewhere, "neutral", by=history.moderator_53)
            db.session.commit()
            email_backlog()
    return history


def by_recipient(instance_path: Path) -> dict[str, tuple[str, str, str]]:
    """Each email's address → (subject, text, HTML)."""
    return {message["To"]: (message["Subject"], *parts(message))
            for message in mailbox(instance_path)}


def test_the_backlog_email_counts_the_overdue_items(app: Flask, backlog: History,
                                                    instance_path: Path) -> None:
    english(app)

    assert send(app, NOW) == {"sent": 3}

    emails = by_recipient(instance_path)
    assert sorted(emails) == sorted([backlog.moderator.email, backlog.second.email,
                                     backlog.national.email])
    subject, text, html = emails[backlog.moderator.email]
    assert subject == "Moderation: items have waited more than 48 hours"
    assert text == (
        "Items are waiting for moderation\n"
        "\n"
        "Hello,\n"
        "\n"
        "In your scope, these items have waited more than 48 hours for a moderator:\n"
        "\n"
        "- 1 comment, the oldest answered 5 days ago\n"
        "- 1 reply of a training body, waiting for 3 days\n"
        "- 1 report on a review, waiting for 2 days\n"
        "\n"
        f"Open the moderation queue: {BASE_URL}/admin/moderation\n"
        "\n"
        "--\n"
        "avis — reviews of funded vocational courses. This email was sent because an "
        "account exists for this address.\n"
        f"Privacy: {BASE_URL}/confidentialite?lang=en\n")
    assert "<li>1 comment, the oldest answered 5 days ago</li>" in html
    assert f'href="{BASE_URL}/admin/moderation"' in html
    # Counts only: no comment, reply or report, no trainee.
    for words in ("Commentaire", "Titre", "Merci", "Faux", "stagiaire", "Léa"):
        assert words not in text + html
    no_token(app, text, html)
    assert messages(app) == [("moderation_backlog", "sent", 1)] * 3


def test_the_backlog_email_is_french_by_default(app: Flask, backlog: History,
                                                instance_path: Path) -> None:
    send(app, NOW)

    _subject, text, html = by_recipient(instance_path)[backlog.moderator.email]
    assert '<html lang="fr"' in html
    # Three lines, one per kind, each counting one item.
    assert len(re.findall(r"^- 1 ", text, re.M)) == 3
    assert f"{BASE_URL}/admin/moderation\n" in text


def test_figures_are_taken_again_when_the_email_leaves(app: Flask, backlog: History,
                                                       instance_path: Path) -> None:
    english(app)
    later = NOW + dt.timedelta(hours=2)
    with app.app_context(), clock.frozen_at(later):
        moderator = db.session.get(Account, backlog.moderator.id)
        replies.publish(backlog.replies["r2"], by=moderator)
        db.session.commit()

    send(app, later)

    _subject, text, _html = by_recipient(instance_path)[backlog.moderator.email]
    # Two hours later: the reply was published meanwhile, the report waits 51 hours.
    assert "- 1 comment, the oldest answered 5 days ago\n" \
           "- 1 report on a review, waiting for 2.1 days\n\n" in text
    assert "reply" not in text


def test_nothing_overdue_any_more_nothing_sent(app: Flask, backlog: History,
                                               instance_path: Path) -> None:
    app.config["MODERATION_DELAY_HOURS"] = 24 * 30

    assert send(app, NOW) == {"cancelled": 3}
    assert mailbox(instance_path) == []


def test_not_to_an_account_disabled_or_suppressed_since(app: Flask, backlog: History,
                                                         instance_path: Path) -> None:
    with app.app_context():
        account_operations.disable(db.session.get(Account, backlog.moderator.id), by=None,
                                   actor_role="cli")
        suppress(backlog.second.email, SuppressionReason.complaint)
        db.session.commit()

    # The disabled account's email was cancelled with it; the suppressed one's when due.
    assert send(app, NOW) == {"cancelled": 1, "sent": 1}
    assert list(by_recipient(instance_path)) == [backlog.national.email]


def test_the_backlog_email_over_a_real_smtp_server(app: Flask, backlog: History,
                                                   smtp_server: SMTPTestServer) -> None:
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host,
                      SMTP_PORT=smtp_server.port)

    assert send(app, NOW) == {"sent": 3}

    assert sorted(address for received in smtp_server.received
                  for address in received.rcpt_tos) == sorted(
        [backlog.moderator.email, backlog.second.email, backlog.national.email])
    text, html = parts(smtp_server.received[0].message)
    no_token(app, text, html)


# --- A report's decision ------------------------------------------------------------------

MESSAGE = 'Rien à retirer : <script>alert("x")</script> & co.\nSecond paragraphe.'


def reported(app: Flask, title: str | None = "<i>Super</i> & co") -> tuple[Account, int]:
    """A training body's account and its report on a published review."""
    with app.app_context():
        body = add_body("Atelier des Saules")
        offer = add_offer(body, "Cuisinier <collectivité>", ANGERS, enrolled=1)
        answer = add_answer(offer, (2, 2, 2, 2, 2), comment=(title, "Un texte du stagiaire."),
                            status=CommentStatus.published)
        db.session.commit()
        author = create_account(Role.organisation, siret=body.siret)
        report = reports.report(answer.id, "false_facts", "Ce n'est pas vrai.", by=author)
        db.session.commit()
        return author, report.id


def decide(app: Flask, report_id: int, decision: str) -> Account:
    with app.app_context():
        moderator = create_account(Role.moderator, region="52")
        if decision == "keep":
            reports.keep(report_id, MESSAGE, by=moderator)
        else:
            reports.remove(report_id, "personal_data", MESSAGE, by=moderator)
        db.session.commit()
        return moderator


def test_a_report_kept_tells_the_body_with_the_moderator_message_escaped(
        app: Flask, instance_path: Path) -> None:
    author, report_id = reported(app)
    moderator = decide(app, report_id, "keep")
    english(app)

    assert send(app) == {"sent": 1}

    [message] = mailbox(instance_path)
    assert message["To"] == author.email
    assert message["Subject"] == "Your report on a review: the moderator’s decision"
    text, html = parts(message)
    text, _, footer = text.partition("\nStop receiving these emails: ")
    assert re.fullmatch(rf"{BASE_URL}/notifications/unsubscribe/[A-Za-z0-9_-]{{43}}\n", footer)
    assert text == (
        "Your report has been examined\n"
        "\n"
        "Hello,\n"
        "\n"
        "A moderator has examined your report on the review “<i>Super</i> & co” of the "
        "course “Cuisinier <collectivité>”.\n"
        "\n"
        "Decision: the review is kept, it stays online as it is.\n"
        "\n"
        "The moderator’s message:\n"
        "\n"
        'Rien à retirer : <script>alert("x")</script> & co.\n'
        "Second paragraphe.\n"
        "\n"
        f"Your reviews and your reports are in your space: {BASE_URL}/admin/mon-organisme/avis\n"
        "\n"
        "--\n"
        "avis — reviews of funded vocational courses. This email was sent because an "
        "account exists for this address.\n"
        f"Privacy: {BASE_URL}/confidentialite?lang=en\n")
    # Every text typed by someone is escaped in the HTML.
    assert re.search(r"&lt;script&gt;alert\(&#34;x&#34;\)&lt;/script&gt; &amp; co\.<br ?/?>"
                     r"Second paragraphe\.", html)
    assert "“&lt;i&gt;Super&lt;/i&gt; &amp; co”" in html
    assert "Cuisinier &lt;collectivité&gt;" in html
    assert "<script" not in html
    assert "<i>" not in html
    assert f'href="{BASE_URL}/admin/mon-organisme/avis"' in html
    no_token(app, text, html)
    # Neither the comment's text nor who wrote it, nor the moderator.
    for words in ("Un texte du stagiaire", "stagiaire", "Léa", moderator.email):
        assert words not in text + html
    assert messages(app) == [("report_decided", "sent", 1)]


def test_a_report_upheld_says_the_comment_was_taken_off(app: Flask,
                                                        instance_path: Path) -> None:
    _author, report_id = reported(app, title=None)
    decide(app, report_id, "remove")
    english(app)

    send(app)

    text, html = parts(mailbox(instance_path)[0])
    assert "on the review “(untitled)” of the course" in text
    assert "Decision: the review’s comment has been taken off; its marks still count.\n" in text
    assert "review is kept" not in text
    assert "Decision: the review’s comment has been taken off" in html


def test_the_report_email_is_french_by_default(app: Flask, instance_path: Path) -> None:
    _author, report_id = reported(app)
    decide(app, report_id, "keep")

    send(app)

    text, html = parts(mailbox(instance_path)[0])
    assert '<html lang="fr"' in html
    assert 'Rien à retirer : <script>alert("x")</script> & co.\nSecond paragraphe.\n' in text


def test_the_report_email_over_a_real_smtp_server(app: Flask,
                                                  smtp_server: SMTPTestServer) -> None:
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.host,
                      SMTP_PORT=smtp_server.port)
    author, report_id = reported(app)
    decide(app, report_id, "keep")

    assert send(app) == {"sent": 1}

    [received] = smtp_server.received
    assert received.rcpt_tos == [author.email]
    text, html = parts(received.message)
    assert "&lt;script&gt;" in html
    no_token(app, text, html)


@pytest.mark.parametrize("change", ["disabled", "suppressed"])
def test_no_report_email_to_an_account_disabled_or_suppressed_since(
        app: Flask, instance_path: Path, change: str) -> None:
    author, report_id = reported(app)
    decide(app, report_id, "keep")
    with app.app_context():
        if change == "disabled":
            account_operations.disable(db.session.get(Account, author.id), by=None,
                                       actor_role="cli")
        else:
            suppress(author.email, SuppressionReason.bounce)
        db.session.commit()

    send(app)

    assert messages(app)[-1] == ("report_decided", "cancelled", 0 if change == "disabled"
                                 else 1)
    assert mailbox(instance_path) == []


def test_a_report_not_decided_is_not_told(app: Flask, instance_path: Path) -> None:
    author, report_id = reported(app)
    with app.app_context():
        db.session.add(AccountMessage(account_id=author.id, kind=AccountMail.report_decided,
                                      report_id=report_id))
        db.session.commit()

    assert send(app) == {"cancelled": 1}
    assert mailbox(instance_path) == []
