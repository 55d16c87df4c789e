"""Jobs of accounts: training bodies with a published review invited to their space (and
reminded once), and sign-in sessions and links forgotten past their lifetimes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from avis import clock
from avis.accounts import operations
from avis.accounts.jobs import invite_training_bodies, prune_account_sessions
from avis.accounts.models import (
    Account,
    AccountMail,
    AccountMessage,
    AccountSession,
    AccountStatus,
    AccountToken,
    Role,
    TokenPurpose,
)
from avis.audit.models import AuditEvent
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import suppress
from avis.scheduler.jobs import BY_ID
from avis.surveys.models.answers import CommentStatus
from tests.accounts.fixtures import Browser, create_account
from tests.accounts.test_mail import (
    ACTIVATION_SUBJECT,
    REMINDER_SUBJECT,
    choose_password,
    mailbox,
    messages,
    parts,
    send,
    token_in,
)
from tests.public.fixtures import NANTES, add_answer, add_body, add_offer

START = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
MARKS = (4, 5, 4, 4, 5)
#: What ``invite_training_bodies`` returns when it invited nobody and reminded nobody.
NOTHING = {"invited": 0, "reminded": 0, "skipped": 0}

#: An answer of each kind: marks only, or with a comment in each moderation state.
RATING = "rating"


def body(name: str, contact: str | None, *answers: CommentStatus | str) -> TrainingBody:
    """A body teaching one course in Nantes, with ``answers`` (flushed)."""
    created = add_body(name)
    created.contact_email = contact
    offer = add_offer(created, "Soudeur", NANTES, enrolled=1)
    for kind in answers:
        if kind == RATING:
            add_answer(offer, MARKS)
        else:
            add_answer(offer, MARKS, comment=("Bien", "Une bonne formation."),
                       status=CommentStatus(kind))
    return created


def run(app: Flask, moment: dt.datetime) -> dict[str, int]:
    with app.app_context(), clock.frozen_at(moment):
        return invite_training_bodies()


def body_accounts(app: Flask) -> list[tuple[str, str | None, str | None, str]]:
    """(email, siret, siren, status) of every training-body account."""
    with app.app_context():
        return [(a.email, a.siret, a.siren, str(a.status)) for a in db.session.scalars(
            sa.select(Account).where(Account.role == Role.organisation).order_by(Account.id))]


# --- Who is invited --------------------------------------------------------------------

def test_a_body_with_a_rating_or_a_published_comment_gets_an_account_and_an_email(
        app: Flask, instance_path: Path, browser: Callable[[], Browser]) -> None:
    with app.app_context():
        rated = body("Atelier Soudure", " Contact@Atelier.example.org ", RATING)
        commented = body("Institut Ouest", "accueil@institut.example.org",
                         CommentStatus.published, CommentStatus.rejected)
        sirets = rated.siret, commented.siret
        db.session.commit()

    assert run(app, START) == {"invited": 2, "reminded": 0, "skipped": 0}

    assert body_accounts(app) == [
        ("contact@atelier.example.org", sirets[0], None, "invited"),
        ("accueil@institut.example.org", sirets[1], None, "invited"),
    ]
    with app.app_context():
        journal = [(e.action, e.actor_id, e.actor_role, e.changes) for e in db.session.scalars(
            sa.select(AuditEvent).order_by(AuditEvent.id))]
        assert db.session.scalars(sa.select(Account.created_by_id)).all() == [None, None]
    assert journal == [
        ("account.created", None, "system", {"role": "organisation", "scope": f"SIRET {siret}",
                                             "status": "invited", "reason": "published_review"})
        for siret in sirets]
    assert messages(app) == [("activation", "queued", 0)] * 2
    assert send(app, START) == {"sent": 2}
    emails = mailbox(instance_path)
    assert sorted(m["To"] for m in emails) == ["accueil@institut.example.org",
                                               "contact@atelier.example.org"]
    assert {m["Subject"] for m in emails} == {ACTIVATION_SUBJECT}
    text, _ = parts(emails[0])
    assert "D’anciens stagiaires de votre organisme ont donné leur avis" in text
    # The emailed link opens the body's account.
    with clock.frozen_at(START + dt.timedelta(hours=1)):
        assert choose_password(browser(), token_in(emails[0])) == (303, 200)
    assert [status for *_, status in body_accounts(app)].count("active") == 1


def _no_answer() -> TrainingBody:
    return body("Sans avis", "sans@example.org")


def _pending_and_rejected() -> TrainingBody:
    return body("En attente", "attente@example.org", CommentStatus.pending,
                CommentStatus.rejected)


def _no_contact() -> TrainingBody:
    return body("Sans adresse", None, RATING)


def _blank_contact() -> TrainingBody:
    return body("Adresse vide", "   ", RATING)


def _suppressed() -> TrainingBody:
    suppress("Rebond@Example.org", SuppressionReason.bounce)
    return body("Adresse en rebond", "rebond@example.org", RATING)


def _account_for_its_siret() -> TrainingBody:
    found = body("Déjà ouvert", "nouveau@example.org", RATING)
    create_account(Role.organisation, "ancien@example.org", siret=found.siret)
    return found


def _account_for_its_siren() -> TrainingBody:
    found = body("Réseau ouvert", "etablissement@example.org", RATING)
    create_account(Role.organisation, "siege@example.org", siret=found.siren)
    return found


def _address_of_another_account() -> TrainingBody:
    create_account(Role.moderator, "partage@example.org")
    return body("Adresse prise", "Partage@example.org", RATING)


@pytest.mark.parametrize("build", [
    _no_answer, _pending_and_rejected, _no_contact, _blank_contact, _suppressed,
    _account_for_its_siret, _account_for_its_siren, _address_of_another_account,
], ids=lambda build: build.__name__.strip("_"))
def test_a_body_is_not_invited(app: Flask, build: Callable[[], TrainingBody]) -> None:
    with app.app_context():
        build()
        # Next to it, a body the job does invite: the run itself works.
        invited = body("Témoin", "temoin@example.org", RATING)
        invited_siret = invited.siret
        db.session.commit()
    before = body_accounts(app)

    assert run(app, START) == {"invited": 1, "reminded": 0, "skipped": 0}

    assert body_accounts(app) == [*before, ("temoin@example.org", invited_siret, None,
                                            "invited")]
    assert messages(app) == [("activation", "queued", 0)]


def test_an_establishment_of_a_siren_with_a_single_site_account_is_invited(
        app: Flask) -> None:
    with app.app_context():
        site = body("Site A", "site-a@example.org", RATING)
        other = add_body("Site B", siret=site.siren + "00028")
        assert other.siren == site.siren
        other.contact_email = "site-b@example.org"
        add_answer(add_offer(other, "Soudeur", NANTES, enrolled=1), MARKS)
        create_account(Role.organisation, "site-a@example.org", siret=site.siret)
        other_siret = other.siret
        db.session.commit()

    assert run(app, START) == {"invited": 1, "reminded": 0, "skipped": 0}

    assert body_accounts(app)[-1] == ("site-b@example.org", other_siret, None, "invited")


def test_two_bodies_with_one_address_get_one_account(app: Flask,
                                                    instance_path: Path) -> None:
    with app.app_context():
        first = body("Site Nord", "formation@groupe.example.org", RATING)
        body("Site Sud", "Formation@Groupe.example.org", CommentStatus.published)
        first_siret = first.siret
        db.session.commit()

    assert run(app, START) == {"invited": 1, "reminded": 0, "skipped": 1}

    assert body_accounts(app) == [("formation@groupe.example.org", first_siret, None,
                                   "invited")]
    assert send(app, START) == {"sent": 1}
    assert len(mailbox(instance_path)) == 1


def test_a_body_is_invited_once_even_after_its_account_was_disabled(
        app: Flask, instance_path: Path) -> None:
    with app.app_context():
        body("Atelier", "atelier@example.org", RATING)
        db.session.commit()
    assert run(app, START)["invited"] == 1
    send(app, START)

    assert run(app, START + dt.timedelta(days=1)) == NOTHING
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        operations.disable(account, by=None, actor_role="cli")
        db.session.commit()
    assert run(app, START + dt.timedelta(days=2)) == NOTHING
    # Not even a reminder for a disabled account.
    assert run(app, START + dt.timedelta(days=9)) == NOTHING

    assert [status for *_, status in body_accounts(app)] == ["disabled"]
    assert messages(app) == [("activation", "sent", 1)]
    assert send(app, START + dt.timedelta(days=9)) == {}
    assert len(mailbox(instance_path)) == 1


def test_off_with_body_account_invitations_false(app: Flask, instance_path: Path) -> None:
    with app.app_context():
        body("Atelier", "atelier@example.org", RATING)
        waiting = body("Institut", "institut@example.org", RATING)
        db.session.commit()
        # An earlier invitation, past the reminder's delay.
        with clock.frozen_at(START):
            operations.create("institut@example.org", operations.AccountScope(
                Role.organisation, siret=waiting.siret), actor_role="system")
            db.session.commit()
    send(app, START)
    app.config["BODY_ACCOUNT_INVITATIONS"] = False

    assert run(app, START + dt.timedelta(days=8)) == {"invited": 0, "reminded": 0,
                                                       "skipped": 0}

    assert [email for email, *_ in body_accounts(app)] == ["institut@example.org"]
    assert messages(app) == [("activation", "sent", 1)]
    app.config["BODY_ACCOUNT_INVITATIONS"] = True
    assert run(app, START + dt.timedelta(days=8)) == {"invited": 1, "reminded": 1,
                                                       "skipped": 0}


# --- The reminder --------------------------------------------------------------------------

def invited_and_sent(app: Flask, sent: dt.datetime) -> None:
    """A body invited at START, its activation email sent at ``sent``."""
    with app.app_context():
        body("Atelier", "atelier@example.org", RATING)
        db.session.commit()
    assert run(app, START)["invited"] == 1
    assert send(app, sent) == {"sent": 1}


def test_one_reminder_seven_days_after_the_activation_email_was_sent(
        app: Flask, instance_path: Path, browser: Callable[[], Browser]) -> None:
    sent = START + dt.timedelta(hours=3)
    invited_and_sent(app, sent)

    # Seven days after the account was created, not yet after the email was sent.
    assert run(app, START + dt.timedelta(days=7)) == NOTHING
    assert run(app, sent + dt.timedelta(days=6, hours=23)) == NOTHING
    assert messages(app) == [("activation", "sent", 1)]

    assert run(app, sent + dt.timedelta(days=7)) == {"invited": 0, "reminded": 1,
                                                     "skipped": 0}
    assert messages(app) == [("activation", "sent", 1), ("activation_reminder", "queued", 0)]
    assert send(app, sent + dt.timedelta(days=7)) == {"sent": 1}
    assert run(app, sent + dt.timedelta(days=14)) == NOTHING
    assert run(app, sent + dt.timedelta(days=30)) == NOTHING

    assert messages(app) == [("activation", "sent", 1), ("activation_reminder", "sent", 1)]
    first, reminder = mailbox(instance_path)
    assert reminder["Subject"] == REMINDER_SUBJECT
    assert reminder["To"] == "atelier@example.org"
    with clock.frozen_at(sent + dt.timedelta(days=8)):
        # The first link has expired; the reminder's works.
        assert choose_password(browser(), token_in(first)) == (410, 0)
        assert choose_password(browser(), token_in(reminder)) == (303, 200)
    assert [status for *_, status in body_accounts(app)] == ["active"]


def test_no_reminder_once_the_account_is_activated(
        app: Flask, instance_path: Path, browser: Callable[[], Browser]) -> None:
    invited_and_sent(app, START)
    with clock.frozen_at(START + dt.timedelta(days=1)):
        assert choose_password(browser(), token_in(mailbox(instance_path)[0])) == (303, 200)

    assert run(app, START + dt.timedelta(days=8)) == NOTHING

    assert messages(app) == [("activation", "sent", 1)]


def test_no_reminder_to_a_suppressed_address(app: Flask, instance_path: Path) -> None:
    invited_and_sent(app, START)
    with app.app_context():
        suppress("atelier@example.org", SuppressionReason.complaint)
        db.session.commit()

    assert run(app, START + dt.timedelta(days=8)) == NOTHING

    assert messages(app) == [("activation", "sent", 1)]


def test_a_reminder_queued_before_the_address_was_suppressed_is_not_sent(
        app: Flask, instance_path: Path) -> None:
    invited_and_sent(app, START)
    assert run(app, START + dt.timedelta(days=7))["reminded"] == 1
    with app.app_context():
        suppress("atelier@example.org", SuppressionReason.bounce)
        db.session.commit()

    assert send(app, START + dt.timedelta(days=7)) == {"cancelled": 1}

    assert messages(app) == [("activation", "sent", 1), ("activation_reminder", "cancelled", 1)]
    assert len(mailbox(instance_path)) == 1


def test_an_account_opened_by_an_admin_gets_no_reminder(
        app: Flask, make_account: Callable[..., Account], instance_path: Path) -> None:
    admin = make_account(Role.admin)
    with app.app_context():
        found = body("Atelier", "atelier@example.org", RATING)
        with clock.frozen_at(START):
            operations.create("atelier@example.org", operations.AccountScope(
                Role.organisation, siret=found.siret), created_by=db.session.get(
                    Account, admin.id))
            db.session.commit()
    send(app, START)

    assert run(app, START + dt.timedelta(days=8)) == NOTHING

    assert [kind for kind, _, _ in messages(app)] == [AccountMail.activation]


# --- Through the scheduler's command ---------------------------------------------------------

def test_run_due_invites_and_the_next_minute_sends(app: Flask, runner: FlaskCliRunner,
                                                   instance_path: Path) -> None:
    assert BY_ID["invite_training_bodies"].func is invite_training_bodies
    with app.app_context():
        found = body("Atelier", "atelier@example.org", RATING)
        siret = found.siret
        db.session.commit()
    moment = clock.now().replace(microsecond=0) + dt.timedelta(minutes=5)

    first = runner.invoke(args=["jobs", "run-due", "--now", moment.isoformat()])

    assert first.exit_code == 0, first.output
    assert "invite_training_bodies : invited 1, reminded 0, skipped 0" in first.stdout
    assert body_accounts(app) == [("atelier@example.org", siret, None, "invited")]
    # The dispatch ran before the invitation in this round; the next one sends.
    assert mailbox(instance_path) == []
    later = (moment + dt.timedelta(minutes=1)).isoformat()

    second = runner.invoke(args=["jobs", "run-due", "--now", later])

    assert second.exit_code == 0, second.output
    assert "dispatch_account_mail : sent 1" in second.stdout
    assert "invite_training_bodies déjà fait" in second.stdout
    [message] = mailbox(instance_path)
    assert (message["To"], message["Subject"]) == ("atelier@example.org", ACTIVATION_SUBJECT)
    assert body_accounts(app) == [("atelier@example.org", siret, None, "invited")]


# --- Pruning -------------------------------------------------------------------------------

def test_prune_forgets_sessions_past_either_lifetime(
        app: Flask, make_account: Callable[..., Account],
        browser: Callable[[], Browser]) -> None:
    app.config.update(SESSION_IDLE_MINUTES=600, SESSION_MAX_HOURS=12)
    account = make_account(Role.moderator, "marie@example.org")
    idle, busy, late = browser(), browser(), browser()
    with clock.frozen_at(START):
        idle.sign_in(account.email)
        busy.sign_in(account.email)
    with clock.frozen_at(START + dt.timedelta(hours=9)):
        assert busy.get("/admin/").status_code == 200
    with clock.frozen_at(START + dt.timedelta(hours=11)):
        late.sign_in(account.email)

    def prune(moment: dt.datetime) -> dict[str, int]:
        with app.app_context(), clock.frozen_at(moment):
            return prune_account_sessions()

    def alive() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(AccountSession))

    assert prune(START + dt.timedelta(hours=10)) == {"sessions": 0, "links": 0}
    assert alive() == 3
    # Idle for more than ten hours; signed in more than twelve hours ago.
    assert prune(START + dt.timedelta(hours=12, seconds=1)) == {"sessions": 2, "links": 0}
    assert alive() == 1
    with clock.frozen_at(START + dt.timedelta(hours=12, seconds=2)):
        assert late.get("/admin/").status_code == 200
        assert busy.get("/admin/").status_code == 302
        assert idle.get("/admin/").status_code == 302


def test_prune_forgets_links_a_day_after_they_expired(
        app: Flask, make_account: Callable[..., Account]) -> None:
    account = make_account(Role.moderator, "marie@example.org")
    with app.app_context(), clock.frozen_at(START):
        reset = operations.mint_token(account.id, TokenPurpose.reset)
        activation = operations.mint_token(account.id, TokenPurpose.activation)
        db.session.commit()
    assert reset != activation
    ends = START + dt.timedelta(hours=1)

    with app.app_context(), clock.frozen_at(ends + dt.timedelta(days=1)):
        assert prune_account_sessions() == {"sessions": 0, "links": 0}
    with app.app_context(), clock.frozen_at(ends + dt.timedelta(days=1, seconds=1)):
        assert prune_account_sessions() == {"sessions": 0, "links": 1}

    with app.app_context():
        assert [str(p) for p in db.session.scalars(sa.select(AccountToken.purpose))] == [
            "activation"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountMessage)) == 0
        assert db.session.get(Account, account.id).status == AccountStatus.active
