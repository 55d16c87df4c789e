"""Words searched in the moderation queue: the page and the tabs' counts are those of a
plain query of the whole tab, whether the first items of a tab settle them
(``avis.moderation.search``) or the whole tab is searched; each tab, a common word, a
rare one, one found nowhere, every page, a national and a région's moderator.

The page, the count's cap and the prefix are made small (3, 5 and 10 items) so that a
few dozen comments take every path: a common word's first page and counts settled by
the first items, its later pages and a rare word's matches beyond them read from the
whole tab, tabs shorter than the prefix."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.db import db
from avis.moderation import search, views
from avis.moderation.models import Report, ReportReason, ReportStatus
from avis.surveys.models.answers import Answer, CommentStatus, Reply
from tests.accounts.fixtures import PASSWORD, Browser, create_account
from tests.public.fixtures import ANGERS, RENNES, add_answer, add_body, add_offer, add_reply

PAGE_SIZE, COUNT_CAP, PREFIX_ROWS = 3, 5, 10
#: in three items out of four (any ten items in a row hold at least six of them)
COMMON = "alternance"
#: in three comments awaiting and three decided, none among a tab's first ten items
RARE = "ornithologue"
ABSENT = "zzyzx"
RARE_AT = {"pending": {29: "title", 33: "text", 38: "title"},
           "decided": {3: "text", 6: "title", 9: "text"}}
#: awaiting, and decided; one in five in région 53 (Rennes)
PENDING, DECIDED = 40, 30


@dataclass(frozen=True)
class Moderators:
    national: Account
    region_52: Account


def _comment(kind: str, n: int) -> tuple[str, str]:
    common = COMMON.upper() if n % 7 == 1 else COMMON
    title, text = f"Avis {n}", f"Une formation suivie, remarque {n}"
    if n % 4:
        # In the title or the text, in capitals now and then: ILIKE, both columns.
        if n % 2:
            title = f"{title} en {common}"
        else:
            text = f"{text} : l'{common} m'a plu"
    rare = RARE_AT[kind].get(n)
    if rare == "title":
        title = f"{title} {RARE.capitalize()}"
    elif rare == "text":
        text = f"{text}, un {RARE} passionné"
    return title, text


@pytest.fixture
def moderators(app: Flask) -> Moderators:
    """Comments awaiting and decided in régions 52 and 53, inserted in a shuffled order
    (ids follow neither the days nor the decisions' times; two items share each day or
    time, so the id orders them), replies and reports, some with the words."""
    with app.app_context():
        offers = {"52": add_offer(add_body("Atelier des Saules"), "Cuisinier", ANGERS),
                  "53": add_offer(add_body("Ker Formation"), "Marin", RENNES)}
        day = clock.today() - dt.timedelta(days=200)
        decided_at = clock.now() - dt.timedelta(days=10)
        items = [("pending", n) for n in range(PENDING)] + [("decided", n)
                                                              for n in range(DECIDED)]
        random.Random(12).shuffle(items)
        answers: dict[tuple[str, int], Answer] = {}
        for kind, n in items:
            status = CommentStatus.pending if kind == "pending" else (
                CommentStatus.published if n % 3 else CommentStatus.rejected)
            answer = add_answer(offers["53" if n % 5 == 4 else "52"], (4, 3, 4, 5, 4),
                                comment=_comment(kind, n), status=status,
                                day=day + dt.timedelta(days=n // 2))
            if kind == "decided":
                answer.moderated_dt = decided_at + dt.timedelta(minutes=n // 2)
            answers[kind, n] = answer
        # Replies and reports: shorter tabs than the prefix; the word in their own text
        # or in their comment's.
        created = clock.now() - dt.timedelta(days=5)
        for n, text in enumerate([f"Merci, l'{COMMON} continue", "Merci de votre avis",
                                  f"Nous prenons note ({RARE})", "Bonne route",
                                  f"Votre {COMMON.upper()} est notée"]):
            reply = add_reply(answers["decided", n], text, status=CommentStatus.pending)
            reply.created_dt = created + dt.timedelta(hours=(4 - n) // 2)
            if n == 3:
                reply.updated_dt = created + dt.timedelta(hours=9)
        add_reply(answers["decided", 7], f"Déjà publiée, {COMMON}")
        for n, (text, status) in enumerate([
                (f"Cet avis parle d'{COMMON} ailleurs", ReportStatus.open),
                ("Faux", ReportStatus.open), (f"{RARE} inconnu", ReportStatus.open),
                ("Pas chez nous", ReportStatus.open), (f"{COMMON} déjà vu", ReportStatus.kept)]):
            answer = answers["decided", 10 + n]
            db.session.add(Report(
                answer_id=answer.id, training_body_id=answer.training_body_id,
                reason=ReportReason.false_facts, text=text, status=status,
                created_dt=created + dt.timedelta(hours=n % 3)))
        db.session.commit()
        return Moderators(national=create_account(Role.moderator),
                          region_52=create_account(Role.moderator, region="52"))


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE_SIZE)
    monkeypatch.setattr(views, "COUNT_CAP", COUNT_CAP)
    monkeypatch.setattr(search, "PREFIX_ROWS", PREFIX_ROWS)


def reference(tab: str, words: str, region: str | None) -> list[int]:
    """Every item of ``tab`` with ``words``, in the tab's order: a plain query."""
    like = f"%{words}%"
    in_scope = Answer.region_code == region if region else sa.true()
    in_comment = [Answer.comment_text.ilike(like), Answer.comment_title.ilike(like)]
    if tab == "reponses":
        statement = (sa.select(Reply.id).join(Answer, Answer.id == Reply.answer_id)
                     .where(Reply.status == CommentStatus.pending,
                            sa.or_(*in_comment, Reply.text.ilike(like)))
                     .order_by(sa.func.coalesce(Reply.updated_dt, Reply.created_dt), Reply.id))
    elif tab == "signalements":
        statement = (sa.select(Report.id).join(Answer, Answer.id == Report.answer_id)
                     .where(Report.status == ReportStatus.open,
                            sa.or_(*in_comment, Report.text.ilike(like)))
                     .order_by(Report.created_dt, Report.id))
    elif tab == "attente":
        statement = (sa.select(Answer.id)
                     .where(Answer.comment_status == CommentStatus.pending, sa.or_(*in_comment))
                     .order_by(Answer.answered_on, Answer.id))
    else:
        statement = (sa.select(Answer.id)
                     .where(Answer.comment_status.in_([CommentStatus.published,
                                                       CommentStatus.rejected]),
                            sa.or_(*in_comment))
                     .order_by(Answer.moderated_dt.desc(), Answer.id.desc()))
    return list(db.session.scalars(statement.where(in_scope)))


@dataclass(frozen=True)
class Page:
    ids: list[int]
    counts: dict[str, str]
    has_next: bool


def read(client: Browser, tab: str, words: str, page: int) -> Page:
    response = client.get(f"/admin/moderation?onglet={tab}&q={words}&page={page}")
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    tabs = re.findall(r'<li><a href="[^"]*onglet=(\w+)[^"]*"(?: aria-current="page")?>'
                      r"[^<]* \(([^)]*)\)</a></li>", html)
    return Page(ids=[int(n) for n in re.findall(r'aria-labelledby="[crs]-(\d+)"', html)],
                counts=dict(tabs), has_next='rel="next"' in html)


def expected(app: Flask, tab: str, words: str, region: str | None, page: int) -> Page:
    with app.app_context():
        found = {name: reference(name, words, region) for name in views.TABS}
    start = (page - 1) * PAGE_SIZE
    return Page(ids=found[tab][start:start + PAGE_SIZE],
                counts={name: f"{COUNT_CAP}+" if len(ids) > COUNT_CAP else str(len(ids))
                        for name, ids in found.items()},
                has_next=len(found[tab]) > start + PAGE_SIZE)


def signed(browser: Callable[[], Browser], account: Account) -> Browser:
    client = browser()
    assert client.sign_in(account.email, PASSWORD).status_code == 303
    return client


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("words", [COMMON, RARE, ABSENT])
@pytest.mark.parametrize("who", ["national", "region_52"])
def test_every_page_and_count_equals_the_plain_query(
        app: Flask, moderators: Moderators, browser: Callable[[], Browser], words: str,
        who: str) -> None:
    region = None if who == "national" else "52"
    client = signed(browser, getattr(moderators, who))

    for tab in views.TABS:
        with app.app_context():
            pages = len(reference(tab, words, region)) // PAGE_SIZE + 2  # one past the end
        for page in range(1, pages + 1):
            assert read(client, tab, words, page) == expected(app, tab, words, region, page), \
                (tab, page)


def test_the_data_take_every_path(app: Flask, moderators: Moderators) -> None:
    """What the test above relies on: a common word dense enough for the first items to
    settle a count, more matches than they hold, a rare word only beyond them."""
    with app.app_context():
        for region in (None, "52"):
            for tab in ("attente", "decides"):
                everything = reference(tab, "", region)
                common = reference(tab, COMMON, region)
                rare = reference(tab, RARE, region)
                assert len(set(common) & set(everything[:PREFIX_ROWS])) > COUNT_CAP
                assert len(common) > PREFIX_ROWS
                assert rare
                assert not set(rare) & set(everything[:PREFIX_ROWS])
            for tab in ("reponses", "signalements"):
                assert 0 < len(reference(tab, COMMON, region)) < PREFIX_ROWS


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL the app runs meanwhile."""
    seen: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)


#: A statement searching a whole tab: the word matched against the table's own column,
#: not against the first items' (``prefix.searched_0``).
WHOLE_TAB = re.compile(r"answers\.comment_text\)? I?LIKE", re.IGNORECASE)


@pytest.mark.usefixtures("small")
def test_a_common_word_reads_only_the_first_items(
        app: Flask, moderators: Moderators, browser: Callable[[], Browser]) -> None:
    client = signed(browser, moderators.national)

    with statements(app) as common:
        first = read(client, "attente", COMMON, 1)
    with statements(app) as rare:
        read(client, "attente", RARE, 1)
    with statements(app) as later:
        read(client, "attente", COMMON, 4)

    assert first == expected(app, "attente", COMMON, None, 1)
    assert not [s for s in common if WHOLE_TAB.search(s)]
    # A rare word's counts and page, and a page beyond the first items: the whole tab.
    assert [s for s in rare if WHOLE_TAB.search(s)]
    assert [s for s in later if WHOLE_TAB.search(s)]


@pytest.mark.parametrize("prefix", [1, 26, 32, 10_000])
def test_any_prefix_gives_the_same_results(
        app: Flask, moderators: Moderators, browser: Callable[[], Browser],
        monkeypatch: pytest.MonkeyPatch, prefix: int) -> None:
    """The real page and cap; prefixes of one item, of the région's 32 items awaiting
    (the whole tab, exactly), of 26 of them, and longer than any tab."""
    monkeypatch.setattr(search, "PREFIX_ROWS", prefix)
    monkeypatch.setattr(views, "COUNT_CAP", 12)
    client = signed(browser, moderators.region_52)

    for tab in views.TABS:
        for words in (COMMON, RARE):
            page = read(client, tab, words, 1)
            with app.app_context():
                found = reference(tab, words, "52")
            assert page.ids == found[:views.PAGE_SIZE], (tab, words)
            count = "12+" if len(found) > 12 else str(len(found))
            assert page.counts[tab] == count, (tab, words)
