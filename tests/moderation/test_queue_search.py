"""Words searched in the moderation queue: the page and the tabs' counts are those of a
plain query of the whole tab, whether the open tab's count is read off the page's query,
walked on from the page's last item (``avis.moderation.search``) or counted over the
whole tab; each tab, a common word, a sparse one (a page of matches, then none for a
while), a rare one, one found nowhere, every page, a national and a région's moderator.
A word in more items of the open tab than the cap leaves the other tabs uncounted ("—").

The page, the count's cap and the walk are made small (3, 5 and 1 to 10 items) so that
a few dozen comments take every path.
"""

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
#: in a tab's first four items (more than a page), then none for more than ten items
SPARSE = "menuiserie"
SPARSE_AT = {"pending": (0, 1, 2, 3, 36), "decided": (29, 28, 27, 26, 5)}
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
    if n in SPARSE_AT[kind]:
        text = f"{text}, atelier de {SPARSE.upper() if n % 2 else SPARSE}"
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
        for n in range(8):
            # The word in the report's own text (16: its comment has not) or in its
            # comment's; the last one is closed.
            text = {2: f"{RARE} inconnu", 6: f"Cet avis parle d'{COMMON} ailleurs",
                    7: f"{COMMON} déjà vu"}.get(n, f"Signalement {n}")
            answer = answers["decided", 10 + n]
            db.session.add(Report(
                answer_id=answer.id, training_body_id=answer.training_body_id,
                reason=ReportReason.false_facts, text=text,
                status=ReportStatus.kept if n == 7 else ReportStatus.open,
                created_dt=created + dt.timedelta(hours=n % 3)))
        db.session.commit()
        return Moderators(national=create_account(Role.moderator),
                          region_52=create_account(Role.moderator, region="52"))


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE_SIZE)
    monkeypatch.setattr(views, "COUNT_CAP", COUNT_CAP)
    monkeypatch.setattr(search, "PREFIX_ROWS", PREFIX_ROWS)
    monkeypatch.setattr(search, "PAGE_ROWS", PREFIX_ROWS)


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
    counts = {name: f"{COUNT_CAP}+" if len(ids) > COUNT_CAP else str(len(ids))
              for name, ids in found.items()}
    if len(found[tab]) > COUNT_CAP:
        # More matches in the open tab than the cap: the other tabs are not counted.
        counts = {name: count if name == tab else "—" for name, count in counts.items()}
    return Page(ids=found[tab][start:start + PAGE_SIZE], counts=counts,
                has_next=len(found[tab]) > start + PAGE_SIZE)


def signed(browser: Callable[[], Browser], account: Account) -> Browser:
    client = browser()
    assert client.sign_in(account.email, PASSWORD).status_code == 303
    return client


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize("prefix", [1, 3, PREFIX_ROWS])
@pytest.mark.parametrize("words", [COMMON, SPARSE, RARE, ABSENT])
@pytest.mark.parametrize("who", ["national", "region_52"])
def test_every_page_and_count_equals_the_plain_query(
        app: Flask, moderators: Moderators, browser: Callable[[], Browser],
        monkeypatch: pytest.MonkeyPatch, words: str, who: str, prefix: int) -> None:
    # The page's walk as short: a page found by it, or by the plain query after it.
    monkeypatch.setattr(search, "PREFIX_ROWS", prefix)
    monkeypatch.setattr(search, "PAGE_ROWS", prefix)
    region = None if who == "national" else "52"
    client = signed(browser, getattr(moderators, who))

    for tab in views.TABS:
        with app.app_context():
            pages = len(reference(tab, words, region)) // PAGE_SIZE + 2  # one past the end
        for page in range(1, pages + 1):
            assert read(client, tab, words, page) == expected(app, tab, words, region, page), \
                (tab, page)


def test_the_data_take_every_path(app: Flask, moderators: Moderators) -> None:
    """What the test above relies on. The common word: more than a page, more than the
    cap, the cap reached within the ten items after the first page. The sparse word:
    more than a page, more than what the first page and the ten items after it hold,
    fewer than the cap. Replies and reports: fewer than ten items."""
    with app.app_context():
        for region in (None, "52"):
            for tab in ("attente", "decides"):
                everything = reference(tab, "", region)
                common = reference(tab, COMMON, region)
                sparse = reference(tab, SPARSE, region)
                after_page = everything.index(common[PAGE_SIZE]) + 1
                assert len(set(common) & set(everything[:after_page + PREFIX_ROWS])) \
                    > COUNT_CAP
                after_page = everything.index(sparse[PAGE_SIZE]) + 1
                assert PAGE_SIZE < len(sparse) <= COUNT_CAP
                assert len(set(sparse) & set(everything[:after_page + PREFIX_ROWS])) \
                    == PAGE_SIZE + 1
                assert reference(tab, RARE, region)
            for tab in ("reponses", "signalements"):
                assert PAGE_SIZE < len(reference(tab, COMMON, region)) < PREFIX_ROWS


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


#: A capped count of a whole tab's matches: the word matched against the table's own
#: column, not against the items walked (``prefix.searched_0``).
WHOLE_TAB_COUNT = re.compile(r"^SELECT count\(\*\).*answers\.comment_text\)? I?LIKE",
                             re.IGNORECASE | re.DOTALL)


@pytest.mark.usefixtures("small")
def test_a_common_word_is_not_counted_over_the_whole_tab(
        app: Flask, moderators: Moderators, browser: Callable[[], Browser]) -> None:
    client = signed(browser, moderators.national)

    with statements(app) as common:
        first = read(client, "attente", COMMON, 1)
    with statements(app) as sparse:
        read(client, "attente", SPARSE, 1)

    assert first == expected(app, "attente", COMMON, None, 1)
    assert first.counts["decides"] == "—"
    # The common word: its count walked on from the page, the other tabs not counted.
    # The sparse word: every tab counted, the open one over the whole tab too.
    assert not [s for s in common if WHOLE_TAB_COUNT.search(s)]
    assert len([s for s in sparse if WHOLE_TAB_COUNT.search(s)]) == len(views.TABS)
