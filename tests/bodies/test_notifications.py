"""A training body's emails: the "new reviews" digest (its timing, what it counts, for
whom), the reply-decision emails, the preferences page and the one-click unsubscribe
every such email carries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts import operations
from avis.accounts.models import Account, AccountMessage, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.bodies import notifications
from avis.bodies.models.notifications import NotificationOptOut, Topic, UnsubscribeToken
from avis.config import ConfigError, load_settings
from avis.db import db
from avis.mail.models import SuppressionReason
from avis.mail.suppressions import suppress
from avis.moderation import replies, reports
from avis.surveys.models.answers import Answer, CommentStatus, ExclusionReason, RejectionReason
from tests.accounts.fixtures import Browser, create_account, csrf_token
from tests.accounts.test_mail import mailbox, messages, parts, send
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import ANGERS, Offer, add_answer, add_body, add_offer

BASE_URL = "https://avis.example.fr"
#: A Monday, 09:00 in Paris: the accounts are created then.
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
#: The daily job's tick (00:00 UTC), ``days`` after the start's day.
LINK = re.compile(rf"{re.escape(BASE_URL)}/notifications/unsubscribe/([A-Za-z0-9_-]{{43}})")


def day(days: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, 5, tzinfo=dt.UTC) + dt.timedelta(days=days)


@dataclass
class World:
    #: one SIREN, two establishments; another body
    north: Offer
    south: Offer
    other: Offer
    #: the SIREN's account, and each establishment's
    siren_account: Account
    north_account: Account
    south_account: Account


@pytest.fixture
def world(app: Flask) -> World:
    app.config["BASE_URL"] = BASE_URL
    with app.app_context(), clock.frozen_at(START):
        north_siret = make_siret(4_200_017)
        south_siret = make_siret(4_200_017 + 10**8)
        assert north_siret[:9] == south_siret[:9]
        north = add_offer(add_body("Atelier Nord", siret=north_siret), "Soudeur", ANGERS,
                          enrolled=0)
        south = add_offer(add_body("Atelier Sud", siret=south_siret), "Cuisinier", ANGERS,
                          enrolled=0)
        other = add_offer(add_body("Ailleurs Formation"), "Comptable", ANGERS, enrolled=0)
        db.session.commit()
        found = World(north, south, other,
                      create_account(Role.organisation, siret=north_siret[:9]),
                      create_account(Role.organisation, siret=north_siret),
                      create_account(Role.organisation, siret=south_siret))
        db.session.expunge_all()
    return found


def answer(app: Flask, offer: Offer, on: dt.datetime, *, comment: bool = False,
           status: CommentStatus = CommentStatus.pending) -> int:
    """An answer given on ``on``'s day (a public comment, waiting, when ``comment``)."""
    with app.app_context(), clock.frozen_at(on):
        made = add_answer(offer, (4, 4, 4, 4, 4), day=clock.today(),
                          comment=("Bien", "Une bonne formation.") if comment else None,
                          status=status)
        db.session.commit()
        return made.id


def moderate(app: Flask, answer_id: int, on: dt.datetime,
             status: CommentStatus = CommentStatus.published) -> None:
    with app.app_context():
        db.session.execute(sa.update(Answer).where(Answer.id == answer_id)
                           .values(comment_status=status, moderated_dt=on))
        db.session.commit()


def job(app: Flask, on: dt.datetime) -> int:
    with app.app_context(), clock.frozen_at(on):
        return notifications.email_digests()["queued"]


def digests(instance_path: Path) -> dict[str, tuple[str, str]]:
    """Recipient → (subject, text) of the digests sent so far, the latest for each."""
    return {m["To"]: (m["Subject"], parts(m)[0]) for m in mailbox(instance_path)
            if "avis :" in m["Subject"]}


# --- the digest: timing ---------------------------------------------------------------------

def test_not_before_n_days_not_without_news_and_once_per_period(
        app: Flask, world: World, instance_path: Path) -> None:
    answer(app, world.north, day(1, 10))

    # The account was activated on day 0: nothing before day 7, whatever happened.
    assert job(app, day(6)) == 0
    assert job(app, day(7)) == 2  # the SIREN account and the north's (not the south's)
    assert job(app, day(7, 12)) == 0  # one waits to leave
    assert send(app, day(7)) == {"sent": 2}
    assert job(app, day(7, 20)) == 0  # and once sent, not again in the period

    sent = digests(instance_path)
    assert set(sent) == {world.siren_account.email, world.north_account.email}
    subject, text = sent[world.north_account.email]
    assert subject == "avis : 1 nouvel avis sur votre organisme"
    assert "1 avis sur votre organisme a été publié depuis le 2 mars 2026." in text

    # A week later with nothing new: nothing. A review on day 10 comes out on day 14.
    assert job(app, day(13)) == 0
    answer(app, world.north, day(10, 9))
    assert job(app, day(13)) == 0
    assert job(app, day(14)) == 2
    assert send(app, day(14)) == {"sent": 2}
    subject, text = digests(instance_path)[world.north_account.email]
    # Only the new one: the first period's review is not told twice.
    assert subject == "avis : 1 nouvel avis sur votre organisme"
    assert "depuis le 9 mars 2026" in text


def test_the_period_follows_the_setting(app: Flask, world: World) -> None:
    app.config["BODY_DIGEST_DAYS"] = 3
    answer(app, world.south, day(1, 10))
    assert job(app, day(2)) == 0
    assert job(app, day(3)) == 2  # the SIREN account and the south's


def test_a_digest_that_failed_moves_nothing(app: Flask, world: World,
                                            instance_path: Path) -> None:
    answer(app, world.north, day(1, 10))
    job(app, day(7))
    with app.app_context():
        db.session.execute(sa.update(AccountMessage).values(status="failed"))
        db.session.commit()
    assert job(app, day(8)) == 2  # its period was never told: the next one starts there
    send(app, day(8))
    assert "1 avis" in digests(instance_path)[world.north_account.email][1]


# --- the digest: what it counts -------------------------------------------------------------

def test_what_counts_is_a_published_review_in_the_account_scope(
        app: Flask, world: World, instance_path: Path) -> None:
    answer(app, world.north, day(1, 10))                      # marks only: counts
    answer(app, world.south, day(1, 10))                      # the other establishment
    answer(app, world.other, day(1, 10))                      # another body: never
    waiting = answer(app, world.north, day(2, 10), comment=True)   # not yet published
    rejected = answer(app, world.north, day(2, 10), comment=True)
    moderate(app, rejected, day(3), CommentStatus.rejected)   # never published
    published = answer(app, world.north, day(2, 10), comment=True)
    moderate(app, published, day(3))                          # published: counts
    excluded = answer(app, world.north, day(2, 10))
    with app.app_context():
        db.session.execute(sa.update(Answer).where(Answer.id == excluded)
                           .values(excluded_reason=ExclusionReason.fraud))
        db.session.commit()

    assert job(app, day(7)) == 3
    send(app, day(7))
    sent = digests(instance_path)
    assert sent[world.siren_account.email][0] == "avis : 3 nouveaux avis sur votre organisme"
    assert sent[world.north_account.email][0] == "avis : 2 nouveaux avis sur votre organisme"
    assert sent[world.south_account.email][0] == "avis : 1 nouvel avis sur votre organisme"

    # The waiting comment published later counts in the next period, by its publication.
    moderate(app, waiting, day(9))
    assert job(app, day(14)) == 2
    send(app, day(14))
    assert digests(instance_path)[world.north_account.email][0] == \
        "avis : 1 nouvel avis sur votre organisme"


def test_counted_when_it_leaves_nothing_left_nothing_sent(app: Flask, world: World) -> None:
    published = answer(app, world.north, day(2, 10), comment=True)
    moderate(app, published, day(3))
    assert job(app, day(7)) == 2
    moderate(app, published, day(7, 1), CommentStatus.rejected)  # withdrawn meanwhile
    assert send(app, day(7, 2)) == {"cancelled": 2}


# --- the digest: for whom ----------------------------------------------------------------------

def test_never_to_a_disabled_invited_suppressed_or_opted_out_account(
        app: Flask, world: World) -> None:
    answer(app, world.north, day(1, 10))
    with app.app_context(), clock.frozen_at(START):
        operations.disable(db.session.get(Account, world.north_account.id), by=None)
        invited = create_account(Role.organisation, siret=world.north.body.siret, password=None)
        suppress(db.session.get(Account, world.siren_account.id).email,
                 SuppressionReason.bounce)
        db.session.commit()
    assert job(app, day(7)) == 0
    with app.app_context():
        assert db.session.get(Account, invited.id).status == AccountStatus.invited

    # An account that turned the digest off after it was queued: not sent.
    answer(app, world.south, day(8, 10))
    assert job(app, day(14)) == 1
    with app.app_context():
        notifications.set_preferences(db.session.get(Account, world.south_account.id),
                                      {Topic.digest: False})
        db.session.commit()
    send(app, day(14))
    assert [m for m in messages(app) if m[0] == "body_digest"] == [
        ("body_digest", "cancelled", 1)]
    assert job(app, day(21)) == 0


def test_the_scheduler_runs_it_daily() -> None:
    from avis.scheduler.jobs import BY_ID, DAY

    assert BY_ID["body_digest"].every == DAY
    assert BY_ID["body_digest"].func is notifications.email_digests


def test_the_setting_is_checked(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {})["BODY_DIGEST_DAYS"] == 7
    assert load_settings(tmp_path, {"AVIS_BODY_DIGEST_DAYS": "14"})["BODY_DIGEST_DAYS"] == 14
    with pytest.raises(ConfigError, match="AVIS_BODY_DIGEST_DAYS"):
        load_settings(tmp_path, {"AVIS_BODY_DIGEST_DAYS": "0"})


# --- one-click unsubscribe ------------------------------------------------------------------

def _digest_sent(app: Flask, world: World, instance_path: Path) -> tuple[str, str]:
    """The north account's digest: its unsubscribe token and the email's text."""
    answer(app, world.north, day(1, 10))
    job(app, day(7))
    send(app, day(7))
    [message] = [m for m in mailbox(instance_path) if m["To"] == world.north_account.email]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = LINK.fullmatch(message["List-Unsubscribe"].strip("<>"))
    assert header is not None
    text, html = parts(message)
    assert f"Ne plus recevoir ces courriels : {BASE_URL}/notifications/unsubscribe/" \
        f"{header.group(1)}" in text
    assert f'href="{BASE_URL}/notifications/unsubscribe/{header.group(1)}"' in html
    return header.group(1), text


def _off(app: Flask, account: Account) -> set[Topic]:
    with app.app_context():
        return set(db.session.scalars(sa.select(NotificationOptOut.topic).where(
            NotificationOptOut.account_id == account.id)))


def _events(app: Flask, account: Account) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.changes) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "account.notifications_changed",
                                        AuditEvent.object_id == str(account.id))
            .order_by(AuditEvent.id))]


def test_the_link_holds_a_token_stored_hashed_and_no_personal_data(
        app: Flask, world: World, instance_path: Path) -> None:
    token, _text = _digest_sent(app, world, instance_path)
    with app.app_context():
        stored = db.session.scalars(sa.select(UnsubscribeToken.digest)).all()
    assert token.encode() not in stored
    assert len(stored) == 2  # one per email sent
    assert world.north_account.email.split("@")[0] not in token


def test_a_get_asks_and_changes_nothing_the_form_post_turns_it_off(
        app: Flask, client, world: World, instance_path: Path) -> None:
    token, _text = _digest_sent(app, world, instance_path)
    url = f"/notifications/unsubscribe/{token}"

    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ne plus recevoir ces courriels" in html
    assert "les courriels « nouveaux avis »" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert _off(app, world.north_account) == set()
    # Without the page's CSRF token, nothing either.
    assert client.post(url, data={}).status_code == 400
    assert _off(app, world.north_account) == set()

    done = client.post(url, data={"csrf_token": csrf_token(html)})
    assert done.status_code == 200
    assert "avis ne vous enverra plus les courriels « nouveaux avis »." in done.get_data(
        as_text=True)
    assert _off(app, world.north_account) == {Topic.digest}
    assert _events(app, world.north_account) == [
        ("account.notifications_changed", {"digest": [True, False], "via": "link"})]
    # Opened again: it says so.
    assert "Vous ne recevez déjà plus" in client.get(url).get_data(as_text=True)


def test_one_click_post_without_cookie_nor_token(app: Flask, world: World,
                                                 instance_path: Path) -> None:
    token, _text = _digest_sent(app, world, instance_path)
    response = app.test_client().post(f"/notifications/unsubscribe/{token}",
                                      data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert _off(app, world.north_account) == {Topic.digest}
    assert _events(app, world.north_account)[0][1]["via"] == "one_click"
    # Only that account's digest: its colleague's stays.
    assert _off(app, world.siren_account) == set()


@pytest.mark.parametrize("token", ["inconnu", "x" * 43, "y" * 300])
def test_a_bad_token_gives_a_clear_page(client, world: World, token: str) -> None:
    response = client.get(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 404
    assert "Ce lien ne fonctionne pas" in response.get_data(as_text=True)
    response = client.post(f"/notifications/unsubscribe/{token}",
                           data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404


def test_an_expired_token_opens_nothing(app: Flask, client, world: World,
                                        instance_path: Path) -> None:
    token, _text = _digest_sent(app, world, instance_path)
    with app.app_context(), clock.frozen_at(day(7) + notifications.TOKEN_LIFETIME):
        assert notifications.find_unsubscription(token) is None
        assert notifications.email_digests()["tokens_removed"] == 2


# --- the preferences page -----------------------------------------------------------------

def test_the_preferences_page_turns_each_kind_on_and_off(
        app: Flask, world: World, browser) -> None:
    client: Browser = browser()
    assert client.sign_in(world.north_account.email).status_code == 303
    page = client.get("/admin/mon-organisme/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "au plus tous les 7 jours" in html
    assert html.count('checked id="') == 3

    response = client.submit("/admin/mon-organisme/notifications",
                             {"digest": "y", "report_decisions": "y"})
    assert response.status_code == 303
    assert _off(app, world.north_account) == {Topic.reply_decisions}
    assert _events(app, world.north_account) == [
        ("account.notifications_changed", {"reply_decisions": [True, False], "via": "page"})]
    assert client.get("/admin/mon-organisme/notifications").get_data(
        as_text=True).count('checked id="') == 2

    client.submit("/admin/mon-organisme/notifications",
                  {"digest": "y", "report_decisions": "y", "reply_decisions": "y"})
    assert _off(app, world.north_account) == set()


def test_the_preferences_page_is_for_bodies_only(signed_in) -> None:
    assert signed_in(Role.region, region="52").get(
        "/admin/mon-organisme/notifications").status_code == 403


# --- decisions on replies and reports -------------------------------------------------------

def _replied(app: Flask, world: World) -> tuple[int, Account]:
    """The north account's reply to a published review, waiting; and a moderator."""
    published = answer(app, world.north, day(1, 10), comment=True)
    moderate(app, published, day(2))
    with app.app_context():
        author = db.session.get(Account, world.north_account.id)
        reply = replies.write(published, "Merci <b>beaucoup</b> !", by=author)
        moderator = create_account(Role.moderator, region="52")
        db.session.commit()
        return reply.id, moderator


def _decide(app: Flask, reply_id: int, moderator: Account, decision: str) -> None:
    with app.app_context():
        by = db.session.get(Account, moderator.id)
        if decision == "publish":
            replies.publish(reply_id, by=by)
        elif decision == "reject":
            replies.reject(reply_id, RejectionReason.personal_data, by=by)
        else:
            replies.undo(reply_id, by=by)  # each decision queues its email itself
        db.session.commit()


def test_a_published_reply_is_told_to_its_author(app: Flask, world: World,
                                                 instance_path: Path) -> None:
    reply_id, moderator = _replied(app, world)
    _decide(app, reply_id, moderator, "publish")
    assert send(app) == {"sent": 1}
    [message] = mailbox(instance_path)
    assert message["To"] == world.north_account.email
    assert message["Subject"] == "Votre réponse à un avis est publiée"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert LINK.fullmatch(message["List-Unsubscribe"].strip("<>"))
    text, html = parts(message)
    assert "Elle est maintenant affichée à côté de l’avis." in text
    assert "Merci <b>beaucoup</b> !" in text
    assert "Merci &lt;b&gt;beaucoup&lt;/b&gt; !" in html


def test_a_rejected_reply_says_why_and_an_undone_decision_is_not_told(
        app: Flask, world: World, instance_path: Path) -> None:
    reply_id, moderator = _replied(app, world)
    _decide(app, reply_id, moderator, "reject")
    _decide(app, reply_id, moderator, "undo")  # nothing queued: it waits again
    _decide(app, reply_id, moderator, "reject")
    assert send(app) == {"sent": 1}
    assert messages(app) == [("reply_decided", "cancelled", 0), ("reply_decided", "sent", 1)]
    [message] = mailbox(instance_path)
    assert message["Subject"] == "Votre réponse à un avis n’est pas affichée"
    text, _html = parts(message)
    assert "Elle n’est pas affichée : elle contient des données personnelles" in text


def test_a_decision_undone_before_it_leaves_is_not_sent(app: Flask, world: World,
                                                        instance_path: Path) -> None:
    reply_id, moderator = _replied(app, world)
    _decide(app, reply_id, moderator, "publish")
    _decide(app, reply_id, moderator, "undo")
    send(app)
    assert messages(app) == [("reply_decided", "cancelled", 0)]
    assert mailbox(instance_path) == []


def test_decision_emails_follow_the_preferences(app: Flask, world: World,
                                                instance_path: Path) -> None:
    reply_id, moderator = _replied(app, world)
    with app.app_context():
        author = db.session.get(Account, world.north_account.id)
        notifications.set_preferences(author, {Topic.reply_decisions: False,
                                               Topic.report_decisions: False})
        db.session.commit()
    _decide(app, reply_id, moderator, "publish")
    other = answer(app, world.north, day(1, 10), comment=True)
    moderate(app, other, day(2))
    with app.app_context():
        report = reports.report(other, "false_facts", "Faux.",
                                by=db.session.get(Account, world.north_account.id))
        db.session.commit()
        reports.keep(report.id, "Rien à retirer.", by=db.session.get(Account, moderator.id))
        db.session.commit()
    assert send(app) == {"cancelled": 2}
    assert mailbox(instance_path) == []


def test_a_report_decision_carries_its_unsubscribe(app: Flask, world: World,
                                                   instance_path: Path) -> None:
    _reply_id, moderator = _replied(app, world)
    with app.app_context():
        report = reports.report(db.session.scalar(sa.select(Answer.id).where(
            Answer.comment_status == CommentStatus.published)), "false_facts", "Faux.",
            by=db.session.get(Account, world.north_account.id))
        db.session.commit()
        reports.keep(report.id, "Rien à retirer.", by=db.session.get(Account, moderator.id))
        db.session.commit()
    assert send(app) == {"sent": 1}
    [message] = mailbox(instance_path)
    token = LINK.fullmatch(message["List-Unsubscribe"].strip("<>")).group(1)
    with app.app_context():
        found = notifications.find_unsubscription(token)
        assert found is not None
        assert (found.account.id, found.topic) == (world.north_account.id,
                                                   Topic.report_decisions)


def test_guessing_tokens_is_rate_limited(app: Flask, client, world: World) -> None:
    app.config["SURVEY_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.get("/notifications/unsubscribe/inconnu").status_code == 404
    assert client.get("/notifications/unsubscribe/inconnu").status_code == 429
    assert client.post("/notifications/unsubscribe/inconnu",
                       data={"List-Unsubscribe": "One-Click"}).status_code == 429
