"""Moderation statistics on a small known history: what waits and since when, the median
time to decision, decisions by Paris month, reason, tone and moderator; each within its
scope; and who may open the page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.accounts.scope import Scope
from avis.db import db
from avis.moderation import operations, replies, reports, statistics
from avis.moderation.models import Subject
from avis.surveys.models.answers import Answer, CommentStatus, Reply
from tests.accounts.fixtures import PASSWORD, Browser, create_account
from tests.public.fixtures import ANGERS, RENNES, Offer, add_answer, add_body, add_offer

#: "Now" of every test: a Wednesday morning of March (10:00 in Paris, winter time).
NOW = dt.datetime(2026, 3, 18, 9, 0, tzinfo=dt.UTC)
MARKS = (4, 4, 3, 4, 5)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class History:
    """A région-52 body's comments, replies and reports decided over a year by two
    moderators, and a région-53 body's; nothing else in the database."""

    siret: str
    moderator: Account
    second: Account
    moderator_53: Account
    national: Account
    body_account: Account
    #: région 52: pending comments, replies and open reports, by name
    comments: dict[str, int]
    replies: dict[str, int]
    reports: dict[str, int]
    #: région 53's pending comment
    elsewhere: int


def _comment(offer: Offer, day: str, name: str) -> int:
    return add_answer(offer, MARKS, day=dt.date.fromisoformat(day),
                      comment=(f"Titre {name}", f"Commentaire {name}"),
                      status=CommentStatus.pending).id


def _reply(answer_id: int, written: str, edited: str | None = None) -> int:
    reply = Reply(answer_id=answer_id, text="Merci pour votre avis.",
                  created_dt=at(written), updated_dt=at(edited) if edited else None)
    db.session.add(reply)
    db.session.flush()
    return reply.id


def _at(moment: str, work: Callable[[], object]) -> object:
    """Run ``work`` with the clock at ``moment`` (UTC), and commit; as a request would,
    from the database's rows (not from objects this session loaded before)."""
    db.session.expire_all()
    with clock.frozen_at(at(moment)):
        result = work()
        db.session.commit()
    return result


def build_history() -> History:
    """The data set; the expected figures are written out in the tests."""
    with clock.frozen_at(at("2025-03-01T08:00:00")):
        body = add_body("Atelier des Saules")
        offer = add_offer(body, "Cuisinier", ANGERS, enrolled=1)
        breton = add_offer(add_body("Ker Formation"), "Marin", RENNES, enrolled=1)
        c = {name: _comment(offer, day, name) for name, day in (
            ("c1", "2026-03-10"), ("c2", "2026-03-10"), ("c3", "2026-03-15"),
            ("c4", "2026-03-13"), ("c5", "2026-03-17"), ("c6", "2026-01-05"),
            ("c7", "2026-01-30"), ("c8", "2025-02-01"))}
        b53 = {name: _comment(breton, day, name) for name, day in (
            ("b1", "2026-03-01"), ("b2", "2026-03-02"))}
        db.session.commit()
        a, b = (create_account(Role.moderator, region="52") for _ in range(2))
        m53 = create_account(Role.moderator, region="53")
        national = create_account(Role.moderator)
        body_account = create_account(Role.organisation, siret=body.siret)
    # Comments of région 52 (first decision: c1 2 days, c2 4 days, c3 0 days).
    _at("2025-03-31T10:00:00", lambda: operations.publish(c["c8"], "positive", by=a))
    _at("2026-01-07T10:00:00", lambda: operations.publish(c["c6"], "positive", by=a))
    # 00:30 in Paris on 1 February: a decision of February.
    _at("2026-01-31T23:30:00", lambda: operations.reject(c["c7"], "personal_data", by=a))
    _at("2026-03-12T10:00:00", lambda: operations.publish(c["c1"], "positive", by=a))
    _at("2026-03-12T11:00:00", lambda: operations.undo(c["c1"], by=a))
    _at("2026-03-16T10:00:00", lambda: operations.publish(c["c1"], "neutral", by=a))
    _at("2026-03-14T10:00:00", lambda: operations.reject(c["c2"], "insult", by=b))
    _at("2026-03-15T20:00:00", lambda: operations.publish(c["c3"], "negative", by=b))
    # Région 53: never in région 52's figures.
    _at("2026-03-05T10:00:00", lambda: operations.publish(b53["b2"], "negative", by=m53))
    # Replies: r3 waited 6 h from its edit, r4 10 h; r1 (24 h) and r2 (72 h) wait.
    r = {"r1": _reply(c["c1"], "2026-03-17T09:00:00"),
         "r2": _reply(c["c6"], "2026-03-15T09:00:00"),
         "r3": _reply(c["c3"], "2026-03-10T08:00:00", "2026-03-11T08:00:00"),
         "r4": _reply(c["c2"], "2026-03-01T00:00:00")}
    db.session.commit()
    _at("2026-03-11T14:00:00", lambda: replies.publish(r["r3"], by=a))
    _at("2026-03-01T10:00:00", lambda: replies.reject(r["r4"], "off_topic", by=a))

    # Reports: p3 waited 24 h, p4 6 h; p1 (12 h) and p2 (49 h) wait.
    def report(answer: str, moment: str) -> int:
        return _at(moment, lambda: reports.report(c[answer], "abuse", "Faux.",
                                                  by=body_account).id)  # type: ignore[union-attr]

    p = {"p1": report("c1", "2026-03-17T21:00:00"), "p2": report("c3", "2026-03-16T08:00:00"),
         "p3": report("c2", "2026-03-02T09:00:00"), "p4": report("c6", "2026-03-04T00:00:00")}
    _at("2026-03-03T09:00:00", lambda: reports.keep(p["p3"], "Rien à retirer.", by=a))
    _at("2026-03-04T06:00:00", lambda: reports.remove(p["p4"], "personal_data",
                                                      "Un nom y figurait.", by=a))
    for account in (a, b, m53, national, body_account):
        db.session.refresh(account)  # read after the app context ends
    return History(siret=body.siret, moderator=a, second=b, moderator_53=m53,
                   national=national, body_account=body_account, comments=c, replies=r,
                   reports=p, elsewhere=b53["b1"])


@pytest.fixture
def history(app: Flask) -> History:
    with app.app_context():
        return build_history()


@pytest.fixture
def frozen() -> Iterator[dt.datetime]:
    with clock.frozen_at(NOW) as moment:
        yield moment


def figures(app: Flask, account: Account) -> statistics.Figures:
    with app.app_context(), clock.frozen_at(NOW):
        return statistics.gather(Scope.of(account))


# --- Figures ---------------------------------------------------------------------------

def test_what_waits_and_for_how_long(app: Flask, history: History) -> None:
    found = figures(app, history.moderator).backlog

    assert {subject: (item.count, item.age) for subject, item in found.items()} == {
        # c4 and c5; c4 answered on 13 March: 5 days (a day has no time).
        Subject.comment: (2, dt.timedelta(days=5)),
        # r1 and r2, written 72 hours ago.
        Subject.reply: (2, dt.timedelta(hours=72)),
        # p1 and p2, made 49 hours ago.
        Subject.report: (2, dt.timedelta(hours=49)),
    }


def test_median_time_to_decision_over_the_last_30_days(app: Flask, history: History) -> None:
    found = figures(app, history.moderator).speed

    assert {subject: (item.decided, item.median) for subject, item in found.items()} == {
        # First decisions only (c1's publication after its undo is not one): 2, 4 and
        # 0 days. c6's withdrawal and older decisions are not.
        Subject.comment: (3, dt.timedelta(days=2)),
        # 6 hours from r3's edit, 10 hours for r4.
        Subject.reply: (2, dt.timedelta(hours=8)),
        # 24 and 6 hours.
        Subject.report: (2, dt.timedelta(hours=15)),
    }


def test_decisions_by_paris_month_and_reason(app: Flask, history: History) -> None:
    found = figures(app, history.moderator)

    assert found.months[0] == dt.date(2026, 3, 1)
    assert found.months[-1] == dt.date(2025, 4, 1)
    rows = {(row.month.isoformat()[:7], row.subject, row.decision, row.reason): row.count
            for row in found.by_reason}
    assert rows == {
        ("2026-03", "comment", "publish", None): 3,
        ("2026-03", "comment", "undo", "publish"): 1,
        ("2026-03", "comment", "reject", "insult"): 1,
        # The report removed took the published comment off.
        ("2026-03", "comment", "withdraw", "personal_data"): 1,
        ("2026-03", "reply", "publish", None): 1,
        ("2026-03", "reply", "reject", "off_topic"): 1,
        ("2026-03", "report", "keep", None): 1,
        ("2026-03", "report", "remove", "personal_data"): 1,
        # 31 January 23:30 UTC is 1 February in Paris.
        ("2026-02", "comment", "reject", "personal_data"): 1,
        ("2026-01", "comment", "publish", None): 1,
        # 31 March 2025 is thirteen months ago: not counted.
    }
    assert [row.month for row in found.by_reason] == sorted(
        (row.month for row in found.by_reason), reverse=True)
    assert found.tones == {dt.date(2026, 3, 1): {"positive": 1, "neutral": 1, "negative": 1},
                           dt.date(2026, 1, 1): {"positive": 1}}


def test_decisions_by_moderator(app: Flask, history: History) -> None:
    found = figures(app, history.moderator).by_moderator

    assert [(row.month.isoformat()[:7], row.email, row.count) for row in found] == [
        ("2026-03", history.moderator.email, 8),
        ("2026-03", history.second.email, 2),
        ("2026-02", history.moderator.email, 1),
        ("2026-01", history.moderator.email, 1),
    ]


def test_a_region_sees_its_own_figures_and_a_national_moderator_all(
        app: Flask, history: History) -> None:
    breton = figures(app, history.moderator_53)
    everything = figures(app, history.national)

    assert (breton.backlog[Subject.comment].count, breton.backlog[Subject.reply].count,
            breton.backlog[Subject.report].count) == (1, 0, 0)
    # b1 answered on 1 March.
    assert breton.backlog[Subject.comment].age == dt.timedelta(days=17)
    assert (breton.speed[Subject.comment].decided, breton.speed[Subject.comment].median) == (
        1, dt.timedelta(days=3))
    assert [(row.subject, row.decision, row.count) for row in breton.by_reason] == [
        ("comment", "publish", 1)]
    assert breton.tones == {dt.date(2026, 3, 1): {"negative": 1}}
    assert [(row.email, row.count) for row in breton.by_moderator] == [
        (history.moderator_53.email, 1)]
    assert everything.backlog[Subject.comment].count == 3
    assert everything.backlog[Subject.comment].age == dt.timedelta(days=17)
    assert everything.speed[Subject.comment].decided == 4
    assert sum(row.count for row in everything.by_moderator) == 13


def test_the_backlog_of_overdue_items_only(app: Flask, history: History) -> None:
    with app.app_context(), clock.frozen_at(NOW):
        overdue = statistics.backlog(Scope.of(history.moderator),
                                     waiting_before=NOW - dt.timedelta(hours=48))

    # c4 (answered 13 March, before 16 March) but not c5 (17 March); r2 but not r1; p2
    # (49 hours) but not p1 (12 hours).
    assert {subject: (item.count, item.age) for subject, item in overdue.items()} == {
        Subject.comment: (1, dt.timedelta(days=5)),
        Subject.reply: (1, dt.timedelta(hours=72)),
        Subject.report: (1, dt.timedelta(hours=49)),
    }


def test_a_comment_answered_two_days_ago_may_be_from_its_last_minute(
        app: Flask, history: History) -> None:
    with app.app_context():
        c5 = db.session.get(Answer, history.comments["c5"])
        c5.answered_on = dt.date(2026, 3, 16)
        db.session.commit()
        with clock.frozen_at(NOW):
            limit = NOW - dt.timedelta(hours=48)
            # Answered on 16 March, maybe at 23:59: it has surely waited 48 hours only
            # from 18 March at midnight on.
            assert statistics.backlog(Scope.of(history.moderator),
                                      waiting_before=limit)[Subject.comment].count == 1
        with clock.frozen_at(at("2026-03-18T23:30:00")):
            assert statistics.backlog(
                Scope.of(history.moderator),
                waiting_before=clock.now() - dt.timedelta(hours=48))[Subject.comment].count == 2


def test_nothing_decided_nothing_waiting(app: Flask) -> None:
    with app.app_context():
        moderator = create_account(Role.moderator, region="52")
    found = figures(app, moderator)

    assert all((item.count, item.age) == (0, None) for item in found.backlog.values())
    assert all((item.decided, item.median) == (0, None) for item in found.speed.values())
    assert (found.by_reason, found.tones, found.by_moderator) == ([], {}, [])


def test_waits_in_words(app: Flask) -> None:
    describe = statistics.describe_wait
    with app.test_request_context("/?lang=en"):
        assert describe(dt.timedelta(hours=1)) == "1 hour"
        assert describe(dt.timedelta(hours=47, minutes=40)) == "48 hours"
        assert describe(dt.timedelta(hours=49)) == "2 days"
        assert describe(dt.timedelta(days=1), in_days=True) == "1 day"
        assert describe(dt.timedelta(days=1.5), in_days=True) == "1.5 days"
        assert describe(dt.timedelta(days=1234), in_days=True) == "1,234 days"


# --- The page ---------------------------------------------------------------------------

def page(client: Browser) -> str:
    response = client.get("/admin/moderation/statistiques?lang=en")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def signed(browser: Callable[[], Browser], email: str) -> Browser:
    client = browser()
    assert client.sign_in(email, PASSWORD).status_code == 303
    return client


def cells(html: str, caption: str) -> list[list[str]]:
    """The rows of the table with ``caption``, each as its cells' text."""
    table = html.split(f"<caption id=\"{caption}\">", 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_the_page_shows_the_figures_of_the_scope(app: Flask, history: History,
                                                 browser: Callable[[], Browser],
                                                 frozen: dt.datetime) -> None:
    html = page(signed(browser, history.moderator.email))

    assert "<h1>Moderation statistics</h1>" in html
    assert cells(html, "waiting-caption") == [
        ["Items", "Waiting", "Oldest waiting for", "Decided in 30 days",
         "Median time to decision"],
        ["Comments", "2", "5 days", "3", "2 days"],
        ["Replies of training bodies", "2", "3 days", "2", "8 hours"],
        ["Reports", "2", "2 days", "2", "15 hours"],
    ]
    reasons = cells(html, "reasons-caption")
    assert reasons[0] == ["Month", "Item", "Decision", "Reason", "Decisions"]
    assert ["March 2026", "Comments", "rejected", "Insult or abuse", "1"] in reasons
    assert ["March 2026", "Comments", "decision undone", "published", "1"] in reasons
    assert ["February 2026", "Comments", "rejected", "Personal data", "1"] in reasons
    assert ["March 2026", "Reports", "report examined: review kept", "—", "1"] in reasons
    assert cells(html, "tones-caption") == [
        ["Month", "Positive", "Neutral", "Negative"],
        ["March 2026", "1", "1", "1"],
        ["January 2026", "1", "0", "0"],
    ]
    assert cells(html, "moderators-caption")[1:] == [
        ["March 2026", history.moderator.email, "8"],
        ["March 2026", history.second.email, "2"],
        ["February 2026", history.moderator.email, "1"],
        ["January 2026", history.moderator.email, "1"],
    ]
    assert history.moderator_53.email not in html
    # Counts and staff only: no comment, no title, no trainee.
    assert "Commentaire" not in html
    assert "Titre" not in html
    assert "stagiaire" not in html


def test_the_page_in_french_by_default(app: Flask, history: History,
                                       browser: Callable[[], Browser],
                                       frozen: dt.datetime) -> None:
    response = signed(browser, history.moderator_53.email).get(
        "/admin/moderation/statistiques")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "mars 2026" in html
    assert history.moderator.email not in html


@pytest.mark.parametrize(("role", "scope"), [
    (Role.region, {"region": "52"}),
    (Role.organisation, {"siret": "12345678200010"}),
])
def test_region_staff_and_training_bodies_may_not_open_it(
        app: Flask, signed_in: Callable[..., Browser], role: Role, scope: dict) -> None:
    client = signed_in(role, **scope)

    assert client.get("/admin/moderation/statistiques").status_code == 403


def test_an_admin_sees_every_region(app: Flask, signed_in: Callable[..., Browser]) -> None:
    with app.app_context():
        build_history()
    html = page(signed_in(Role.admin))

    assert "Figures of every région." in html
    assert cells(html, "waiting-caption")[1][:2] == ["Comments", "3"]


def test_an_anonymous_visitor_signs_in_first(client) -> None:
    response = client.get("/admin/moderation/statistiques")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
