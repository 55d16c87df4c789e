"""The comments' lowered copies (``Answer.comment_title_lower``, ``comment_text_lower``),
which the queue's word search walks instead of lowering each text, are the database's
own ``lower()`` of the title and text after every way a comment is written: the
questionnaire, an ORM insert (fixtures, demo), a moderator's redaction (masking the
title too), a bulk UPDATE; null for a text over ``LOWERED_TEXT_MAX`` characters. And the
search finds what ILIKE on the texts finds, on every page and in the count: capitals
and accents (SQLite's lower() and ILIKE know ASCII only, PostgreSQL's every letter: the
same on each engine as before), LIKE's own characters typed as words, texts too long
for their copy (read whole, by their answer's id).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.accounts.models import Account, Role
from avis.db import db
from avis.moderation import search, views
from avis.surveys.models.answers import LOWERED_TEXT_MAX, Answer, CommentStatus
from tests.accounts.fixtures import PASSWORD, Browser, create_account
from tests.public.fixtures import ANGERS, add_answer, add_body, add_offer
from tests.surveys.fixtures import invited  # noqa: F401 (a fixture)

PAGE_SIZE, COUNT_CAP, PREFIX_ROWS = 3, 4, 4
#: Longer than a copy holds, with a word of its own past the first 500 characters.
LONG = "Une formation longue et dense, des journées bien remplies. " * 10 + "Fin."
assert len(LONG) > LOWERED_TEXT_MAX


def stored(answer_id: int) -> tuple[str | None, str | None, str | None, str | None]:
    db.session.rollback()  # what is committed, not what this session holds
    return tuple(db.session.execute(
        sa.select(Answer.comment_title, Answer.comment_text, Answer.comment_title_lower,
                  Answer.comment_text_lower).where(Answer.id == answer_id)).one())


def assert_copies(answer_id: int, title: str | None, text: str | None) -> None:
    """The copies are the database's lower() of the title and text written (computed
    from these strings, not read back from the row)."""
    lower = db.session.execute(sa.select(
        sa.func.lower(sa.literal(title, sa.Text)),
        sa.func.lower(sa.literal(text, sa.Text)))).one()
    assert stored(answer_id) == (
        title, text, lower[0],
        lower[1] if text is None or len(text) <= LOWERED_TEXT_MAX else None)


def test_the_questionnaire_writes_the_copies(app: Flask, client: FlaskClient,
                                             invited: Callable) -> None:  # noqa: F811
    _, token = invited()
    assert client.get(f"/q/{token}").status_code == 303
    html = client.get("/q/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/q/", data={
        "welcome": "4", "content": "4", "trainers": "4", "equipment": "5", "support": "5",
        "would_recommend": "yes", "csrf_token": csrf, "comment_title": "ÉTÉ Studieux",
        "comment_text": "Une ALTERNANCE réussie, Électricité générale", "comment_public": "y"})
    assert response.status_code in (200, 303)

    with app.app_context():
        answer_id = db.session.scalar(sa.select(Answer.id))
        assert_copies(answer_id, "ÉTÉ Studieux", "Une ALTERNANCE réussie, Électricité générale")
        # ASCII letters at least are lowered on every engine.
        assert "alternance" in stored(answer_id)[3]


@pytest.fixture
def comment(app: Flask) -> int:
    """A comment awaiting, inserted through the ORM (as fixtures and demo data are)."""
    with app.app_context():
        offer = add_offer(add_body("Atelier des Saules"), "Cuisinier", ANGERS)
        answer_id = add_answer(offer, (4, 4, 4, 4, 4), status=CommentStatus.pending,
                               comment=("Très BIEN", "Le FOUR était en panne")).id
        db.session.commit()
        assert_copies(answer_id, "Très BIEN", "Le FOUR était en panne")
    return answer_id


def test_a_redaction_rewrites_the_copies(app: Flask, comment: int,
                                         browser: Callable[[], Browser]) -> None:
    with app.app_context():
        moderator = create_account(Role.moderator)
    client = browser()
    assert client.sign_in(moderator.email, PASSWORD).status_code == 303

    for title, text in (("Un TITRE revu", "Texte REVU par la modération"),
                        ("", "Titre MASQUÉ"), ("Retour", LONG), ("Court", "Plus COURT")):
        response = client.submit(f"/admin/moderation/{comment}/texte",
                                 {"title": title, "text": text},
                                 form_page=f"/admin/moderation/{comment}")
        assert response.status_code == 303
        with app.app_context():
            assert_copies(comment, title or None, text)


def test_a_bulk_update_rewrites_the_copies(app: Flask, comment: int) -> None:
    with app.app_context():
        for title, text in (("EN BLOC", "Écrit par une requête"), (None, LONG),
                            (None, None), ("X", "x" * LOWERED_TEXT_MAX)):
            db.session.execute(sa.update(Answer).where(Answer.id == comment)
                               .values(comment_title=title, comment_text=text))
            db.session.commit()
            assert_copies(comment, title, text)


# --- the search ---------------------------------------------------------------------------

#: Each comment awaiting (title, text), oldest first; and the words looked for.
PENDING = [
    ("Électricité", "Chantier d'ÉLECTRICITÉ"), ("Avis", "électricité générale"),
    ("Long", LONG), ("Avis", "remboursée à 100% par la Région"), ("Le mot_clé", "rien"),
    ("Le motaclé", "rien non plus"), ("Long aussi", LONG.replace("Fin.", "électricité")),
    ("Barre", "a\\b comme chemin"), ("Avis", "Une formation LONGUE"), ("Avis", "Sans rien"),
    ("Électricité", LONG.upper()), ("Avis", "Rien"), ("Long encore", LONG),
]
WORDS = ["électricité", "ÉLECTRICITÉ", "longue", "LONGUE", "100%", "t_c", "\\", "Fin.",
         "absent", "e"]


@dataclass(frozen=True)
class Searchable:
    moderator: Account


@pytest.fixture
def searchable(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Searchable:
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE_SIZE)
    monkeypatch.setattr(views, "COUNT_CAP", COUNT_CAP)
    monkeypatch.setattr(search, "PREFIX_ROWS", PREFIX_ROWS)
    with app.app_context():
        offer = add_offer(add_body("Atelier des Saules"), "Électricien", ANGERS)
        day = clock.today() - dt.timedelta(days=100)
        for n, comment in enumerate(PENDING):
            add_answer(offer, (4, 4, 4, 4, 4), comment=comment, status=CommentStatus.pending,
                       day=day + dt.timedelta(days=n))
        # Decided ones, latest first in their tab.
        for n, comment in enumerate(PENDING[::2]):
            answer = add_answer(offer, (4, 4, 4, 4, 4), comment=comment, day=day)
            answer.moderated_dt = clock.now() - dt.timedelta(hours=n)
        db.session.commit()
        return Searchable(moderator=create_account(Role.moderator))


def reference(tab: str, words: str) -> list[int]:
    """The tab's comments with ``words``, in its order: ILIKE on the texts themselves with
    the escaped pattern, as the search ran before the copies."""
    found = search.pattern(words)
    statement = sa.select(Answer.id).where(sa.or_(
        Answer.comment_text.ilike(found, escape="\\"),
        Answer.comment_title.ilike(found, escape="\\")))
    if tab == "attente":
        return list(db.session.scalars(statement.where(
            Answer.comment_status == CommentStatus.pending)
            .order_by(Answer.answered_on, Answer.id)))
    return list(db.session.scalars(statement.where(
        Answer.comment_status == CommentStatus.published)
        .order_by(Answer.moderated_dt.desc(), Answer.id.desc())))


@pytest.mark.parametrize("page_rows", [4, 40])
@pytest.mark.parametrize("words", WORDS)
def test_the_search_finds_what_ilike_finds(app: Flask, searchable: Searchable,
                                           browser: Callable[[], Browser],
                                           monkeypatch: pytest.MonkeyPatch, words: str,
                                           page_rows: int) -> None:
    """Pages found by the walk of the lowered copies (all 13 comments walked, or only the
    first 4) or by the plain query after it; the count by the walk after the page or
    over the whole tab."""
    monkeypatch.setattr(search, "PAGE_ROWS", page_rows)
    client = browser()
    assert client.sign_in(searchable.moderator.email, PASSWORD).status_code == 303

    for tab in ("attente", "decides"):
        with app.app_context():
            everything = reference(tab, words)
        count = f"{COUNT_CAP}+" if len(everything) > COUNT_CAP else str(len(everything))
        for page in range(1, len(everything) // PAGE_SIZE + 3):
            response = client.get(f"/admin/moderation?onglet={tab}&page={page}"
                                  f"&q={quote(words)}")
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            ids = [int(n) for n in re.findall(r'aria-labelledby="c-(\d+)"', html)]
            start = (page - 1) * PAGE_SIZE
            assert ids == everything[start:start + PAGE_SIZE], (tab, page)
            counts = dict(re.findall(r'<li><a href="[^"]*onglet=(\w+)[^"]*"(?: aria-current='
                                     r'"page")?>[^<]* \(([^)]*)\)</a></li>', html))
            assert counts[tab] == count, (tab, page)


def test_the_words_take_every_path(app: Flask, searchable: Searchable) -> None:
    """What the test above relies on: matches only in texts too long for their copy (one
    of them in capitals), and among short ones too; more matches than the cap and than
    the items walked after a page; capitals and accents found by ILIKE (PostgreSQL's
    lower() knows É, SQLite's does not: each engine as before)."""
    with app.app_context():
        long_ids = set(db.session.scalars(sa.select(Answer.id).where(
            Answer.comment_text_lower.is_(None), Answer.comment_text.is_not(None))))
        assert len(long_ids) >= 4
        assert set(reference("attente", "Fin.")) <= long_ids
        assert len(reference("attente", "longue")) > COUNT_CAP
        assert set(reference("attente", "longue")) - long_ids
        assert len(reference("attente", "e")) > PAGE_SIZE + PREFIX_ROWS + 1
        assert reference("attente", "100%")
        assert reference("attente", "\\")
        assert len(reference("attente", "t_c")) == 1  # not "motaclé"
        accents = len(reference("attente", "électricité"))
        assert accents >= 2
        if db.engine.dialect.name == "postgresql":
            assert accents == 4
