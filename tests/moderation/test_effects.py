"""Each moderation decision, taken through its form, as everyone else then sees it: the
body's and the course's public pages, API v1 (the review, the body's list and its
score), the widget's list and an open-data export. Tests keep no page
(``PAGE_CACHE_SECONDS`` is 0): every effect is immediate, except that an excluded
answer leaves the scores at the next refresh. The words a redaction replaced are for
moderators only; a moderator of région 52 never reaches another région's comments.

Not tested here: how long a kept page may lag behind. Pages are kept by Flask-Caching,
whose expiry follows the system clock, which ``avis.clock.frozen_at`` does not move.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from avis.accounts.models import Role
from avis.db import db
from avis.moderation.models import ModerationEvent
from avis.opendata.export import export_reviews
from avis.scores.aggregate import refresh
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus
from tests.accounts.fixtures import Browser, create_account, csrf_token
from tests.public.fixtures import (
    ANGERS,
    RENNES,
    Offer,
    Place,
    add_answer,
    add_body,
    add_offer,
    publish,
)

PARIS = Place("Paris", "75011", "75", region="11", funders=(2,))

#: Where the public reads a comment.
OUTPUTS = ("page_organisme", "page_formation", "api_avis", "api_liste", "widget", "open_data")
SHOWN = dict.fromkeys(OUTPUTS, True)
HIDDEN = dict.fromkeys(OUTPUTS, False)

#: The comment decided on (marks 1/5), the trainee naming someone in its title.
CANDIDATE = ("Merci quand même à Mme Dupuis",
             "Les fours tombaient en panne chaque semaine sans réparation")
#: What a moderator writes instead.
REDACTED = "Des fours souvent en panne, texte revu par la modération"
#: Published from the start (marks 4/5): proof that each output does list comments.
CONTROL = ("Un bon souvenir", "Une équipe de pâtissiers attentive et disponible")

PUBLISH = ("publier", {"qualification": "positive"})
REJECT = ("rejeter", {"reason": "insult"})
WITHDRAW = ("retirer", {"reason": "personal_data"})
UNDO = ("annuler", {})
#: Every decision's word and a valid form for it.
EVERY_DECISION = (PUBLISH, REJECT, WITHDRAW, UNDO, ("exclure", {"reason": "fraud"}),
                  ("reintegrer", {}), ("texte", {"title": "", "text": "Réécrit"}))


@dataclass(frozen=True)
class Item:
    """A comment, and the body and course whose pages would show it."""

    answer_id: int
    siret: str
    course: str
    title: str
    text: str
    #: a word of its text found nowhere else (for the queue's search)
    word: str = ""
    departement: str = ""
    body_name: str = ""


@dataclass(frozen=True)
class World:
    body_id: int
    #: pending, in Angers (région 52)
    candidate: Item
    #: published, same body and course
    control: Item
    #: a pending comment of région 11 (Paris) and one of région 53 (Rennes)
    elsewhere: dict[str, Item]
    #: account key → email
    accounts: dict[str, str]


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        body = add_body("Atelier des Effets")
        offer = add_offer(body, "Pâtissier", ANGERS, enrolled=12)
        candidate = add_answer(offer, (1, 1, 1, 1, 1), status=CommentStatus.pending,
                               comment=CANDIDATE)
        control = add_answer(offer, (4, 4, 4, 4, 4), comment=CONTROL)
        for _ in range(2):
            add_answer(offer, (5, 5, 5, 5, 5))
        others = {}
        for region, place, name, comment, word in (
                ("11", PARIS, "Lutèce Viennoiseries",
                 ("Paris", "Un stage francilien sur les croissants"), "francilien"),
                ("53", RENNES, "Ker Fournil",
                 ("Rennes", "Un stage armoricain sur le kouign-amann"), "armoricain")):
            other = add_offer(add_body(name), "Boulanger", place, enrolled=12)
            answer = add_answer(other, (3, 3, 3, 3, 3), status=CommentStatus.pending,
                                comment=comment)
            others[region] = (answer, other, word, place.departement, name)
        publish()

        def item(answer: Answer, offer: Offer, **more: str) -> Item:
            return Item(answer.id, offer.body.siret, offer.course.numero,
                        answer.comment_title, answer.comment_text, **more)

        world = World(
            body_id=body.id, candidate=item(candidate, offer), control=item(control, offer),
            elsewhere={region: item(answer, other, word=word, departement=departement,
                                    body_name=name)
                       for region, (answer, other, word, departement, name) in others.items()},
            accounts={
                "moderator_52": create_account(Role.moderator, region="52").email,
                "moderator_11": create_account(Role.moderator, region="11").email,
                "moderator_53": create_account(Role.moderator, region="53").email,
                "moderator_all": create_account(Role.moderator).email,
                "region_52": create_account(Role.region, region="52").email,
                "organisation": create_account(Role.organisation, siret=body.siret).email,
            })
    return world


# Staff in the back office ------------------------------------------------------------

@dataclass
class Staff:
    """A signed-in account's client, with the CSRF token of its session."""

    client: FlaskClient
    token: str

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, answer_id: int, word: str, **data: str) -> TestResponse:
        return self.client.post(f"/admin/moderation/{answer_id}/{word}",
                                data={**data, "csrf_token": self.token})

    def told(self, answer_id: int, word: str, data: dict[str, str] | None = None) -> list[str]:
        """Post the decision; what the moderator is told."""
        response = self.post(answer_id, word, **(data or {}))
        assert response.status_code == 303, (word, response.status_code)
        with self.client.session_transaction() as session:
            return [message for _category, message in session.pop("_flashes", [])]

    def decide(self, answer_id: int, word: str, data: dict[str, str] | None = None) -> None:
        """Take the decision and check that the app says it is done."""
        assert self.told(answer_id, word, data) == [
            f"C’est fait : commentaire n° {answer_id}."], word


@pytest.fixture
def staff(world: World, browser: Callable[[], Browser]) -> Callable[[str], Staff]:
    """``staff("moderator_52")``: a client signed in with that account of the world."""

    def sign_in(key: str) -> Staff:
        client = browser()
        assert client.sign_in(world.accounts[key]).status_code == 303
        return Staff(client.client, csrf_token(client.get("/admin/").get_data(as_text=True)))

    return sign_in


# What the public sees -----------------------------------------------------------------

@dataclass(frozen=True)
class Outputs:
    #: output name → everything it gives to read (HTML, JSON, the CSV file)
    contents: dict[str, str]
    #: API v1 ``/avis/<id>`` of the answers asked for (None: 404)
    reviews: dict[int, dict[str, Any] | None]
    #: ids of the body's reviews in API v1
    listed: set[int]
    #: rows of the body in the open-data file
    open_data_rows: int
    #: the body's ``nb_avis`` in API v1
    nb_avis: int

    def showing(self, text: str) -> dict[str, bool]:
        return {name: text in content for name, content in self.contents.items()}

    def comment(self, answer_id: int) -> dict[str, str] | None:
        review = self.reviews[answer_id]
        assert review is not None, f"review {answer_id} is not in API v1"
        return review.get("commentaire")


def visible_everywhere(app: Flask, item: Item, *answer_ids: int) -> Outputs:
    """Read every public output about ``item``'s body and course now, and API v1's
    review of ``item`` and of ``answer_ids``."""
    client = app.test_client()

    def html(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def api(url: str) -> Any:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_json()

    reviews = {}
    for answer_id in (item.answer_id, *answer_ids):
        response = client.get(f"/api/v1/avis/{answer_id}")
        assert response.status_code in (200, 404), response.status_code
        reviews[answer_id] = response.get_json() if response.status_code == 200 else None
    listing = api(f"/api/v1/organismes-formateurs/{item.siret}/avis?items_par_page=100")["avis"]
    with app.app_context(), tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "avis.csv"
        export_reviews({"csv": path})
        open_data = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(open_data), delimiter=";"))
    return Outputs(
        contents={
            "page_organisme": html(f"/organismes/{item.siret}"),
            "page_formation": html(f"/formations/{item.course}"),
            "api_avis": json.dumps([r for r in reviews.values() if r], ensure_ascii=False),
            "api_liste": json.dumps(listing, ensure_ascii=False),
            "widget": html(f"/widget/organisme/liste?identifiant={item.siret}"),
            "open_data": open_data,
        },
        reviews=reviews, listed={int(r["id"]) for r in listing},
        open_data_rows=sum(r["siret_formateur"] == item.siret for r in rows),
        nb_avis=api(f"/api/v1/organismes-formateurs/{item.siret}")["score"]["nb_avis"])


def everywhere(shown: bool) -> dict[str, bool]:
    return SHOWN if shown else HIDDEN


def body_score(app: Flask, world: World) -> tuple[int, float]:
    with app.app_context():
        score = db.session.scalar(sa.select(Score).where(
            Score.scope == ScoreScope.body, Score.key == str(world.body_id)))
        return score.answers_count, score.mean_overall


def refreshed(app: Flask) -> None:
    with app.app_context():
        refresh()


# Tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [
    pytest.param([(PUBLISH, True)], id="publish"),
    pytest.param([(REJECT, False), (PUBLISH, False)], id="reject"),
    pytest.param([(PUBLISH, True), (WITHDRAW, False)], id="withdraw"),
    pytest.param([(PUBLISH, True), (UNDO, False)], id="undo-publish"),
    pytest.param([(PUBLISH, True), (WITHDRAW, False), (UNDO, True)], id="undo-withdraw"),
    pytest.param([(REJECT, False), (UNDO, False), (PUBLISH, True)], id="undo-reject"),
])
def test_each_decision_reaches_every_public_output_at_once(
        app: Flask, world: World, staff: Callable[[str], Staff],
        steps: list[tuple[tuple[str, dict[str, str]], bool]]) -> None:
    """(decision, comment shown after it) one after the other; a decision refused (a
    publication after a rejection) leaves things as they were."""
    moderator = staff("moderator_52")
    item, control = world.candidate, world.control
    seen = visible_everywhere(app, item, control.answer_id)
    assert seen.showing(item.text) == HIDDEN  # pending
    assert seen.showing(control.text) == SHOWN

    for (word, data), shown in steps:
        if (word, shown) == ("publier", False):
            [refused] = moderator.told(item.answer_id, word, data)
            assert refused.startswith("Quelqu’un a décidé avant vous")
        else:
            moderator.decide(item.answer_id, word, data)

        seen = visible_everywhere(app, item, control.answer_id)
        assert seen.showing(item.text) == everywhere(shown), word
        assert seen.showing(item.title) == everywhere(shown), word
        assert seen.comment(item.answer_id) == (
            {"titre": item.title, "texte": item.text} if shown else None), word
        # The review itself stays listed, with its marks, whatever becomes of its comment.
        assert item.answer_id in seen.listed
        assert seen.reviews[item.answer_id]["notes"]["global"] == 1
        assert seen.showing(control.text) == SHOWN
        assert seen.comment(control.answer_id) == {"titre": control.title,
                                                   "texte": control.text}


def test_an_excluded_answer_leaves_every_listing_at_once_and_the_scores_at_the_refresh(
        app: Flask, world: World, staff: Callable[[str], Staff]) -> None:
    moderator = staff("moderator_52")
    item, control = world.candidate, world.control
    moderator.decide(item.answer_id, *PUBLISH)
    seen = visible_everywhere(app, item, control.answer_id)
    assert seen.showing(item.text) == SHOWN
    assert item.answer_id in seen.listed
    assert (seen.open_data_rows, seen.nb_avis) == (4, 4)
    assert body_score(app, world) == (4, pytest.approx(3.75))  # 1, 4, 5, 5

    moderator.decide(item.answer_id, "exclure", {"reason": "fraud"})

    seen = visible_everywhere(app, item, control.answer_id)
    assert seen.showing(item.text) == HIDDEN
    assert seen.showing(item.title) == HIDDEN
    assert seen.reviews[item.answer_id] is None  # 404
    assert item.answer_id not in seen.listed
    assert control.answer_id in seen.listed
    assert len(seen.listed) == seen.open_data_rows == 3
    assert seen.showing(control.text) == SHOWN
    # Its marks count until the scores are refreshed.
    assert seen.nb_avis == 4
    assert body_score(app, world) == (4, pytest.approx(3.75))
    refreshed(app)
    assert body_score(app, world) == (3, pytest.approx(14 / 3))
    assert visible_everywhere(app, item).nb_avis == 3

    moderator.decide(item.answer_id, "reintegrer")

    seen = visible_everywhere(app, item, control.answer_id)
    assert seen.showing(item.text) == SHOWN
    assert seen.comment(item.answer_id) == {"titre": item.title, "texte": item.text}
    assert item.answer_id in seen.listed
    assert seen.open_data_rows == 4
    assert seen.nb_avis == 3  # until the refresh
    refreshed(app)
    assert body_score(app, world) == (4, pytest.approx(3.75))
    assert visible_everywhere(app, item).nb_avis == 4


def test_a_redaction_reaches_every_output_and_the_words_it_replaced_stay_with_moderators(
        app: Flask, world: World, staff: Callable[[str], Staff]) -> None:
    moderator = staff("moderator_52")
    item = world.candidate
    item_page = f"/admin/moderation/{item.answer_id}"
    moderator.decide(item.answer_id, *PUBLISH)
    seen = visible_everywhere(app, item)
    assert (seen.showing(item.title), seen.showing(item.text)) == (SHOWN, SHOWN)
    assert seen.showing(REDACTED) == HIDDEN

    moderator.decide(item.answer_id, "texte", {"title": "", "text": REDACTED})

    seen = visible_everywhere(app, item)
    assert seen.showing(REDACTED) == SHOWN
    assert seen.comment(item.answer_id) == {"texte": REDACTED}
    for original in (item.title, item.text, "Dupuis"):
        assert seen.showing(original) == HIDDEN, original
    # The history, with the trainee's words, on the comment's page for moderators.
    history = moderator.page(item_page)
    assert f"Avant : <strong>{item.title}</strong> — {item.text}" in history
    assert "Dupuis" in staff("moderator_all").page(item_page)
    # Never for a région's staff or the body itself, on any page they may open.
    for key in ("region_52", "organisation"):
        other = staff(key)
        for path in (item_page, "/admin/moderation?onglet=decides"):
            response = other.client.get(path)
            assert response.status_code == 403, (key, path)
            assert "Dupuis" not in response.get_data(as_text=True)
        assert other.post(item.answer_id, "annuler").status_code == 403
        for path in ("/admin/", "/admin/organismes", f"/admin/organismes/{item.siret}"):
            page = other.page(path)
            assert "Dupuis" not in page, (key, path)
            assert item.text not in page, (key, path)
        assert "Atelier des Effets" in page  # the body's own page, theirs to read


@pytest.mark.parametrize("region", ["11", "53"])
def test_a_moderator_of_region_52_never_reaches_another_regions_comment(
        app: Flask, world: World, staff: Callable[[str], Staff], region: str) -> None:
    item = world.elsewhere[region]
    mine, theirs, national = (staff("moderator_52"), staff(f"moderator_{region}"),
                              staff("moderator_all"))
    searches = ("/admin/moderation", f"/admin/moderation?q={item.word}",
                f"/admin/moderation?departement={item.departement}",
                f"/admin/moderation?siret={item.siret}")

    def unseen_by_mine(tab: str) -> None:
        for path in searches:
            page = mine.page(path + ("&" if "?" in path else "?") + f"onglet={tab}")
            assert item.text not in page, path
            assert item.body_name not in page, path
        # Not for want of finding it: a national moderator's same search does.
        assert item.text in national.page(f"/admin/moderation?q={item.word}&onglet={tab}")

    # Pending: no page, no decision, not in the queue.
    assert mine.client.get(f"/admin/moderation/{item.answer_id}").status_code == 404
    for word, data in EVERY_DECISION:
        assert mine.post(item.answer_id, word, **data).status_code == 404, word
    with app.app_context():
        answer = db.session.get(Answer, item.answer_id)
        assert (answer.comment_status, answer.excluded_reason, answer.comment_text) == (
            CommentStatus.pending, None, item.text)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ModerationEvent)
                                 .where(ModerationEvent.answer_id == item.answer_id)) == 0
    unseen_by_mine("attente")
    assert visible_everywhere(app, item).showing(item.text) == HIDDEN

    # Published by its région's moderator: still nothing for région 52's.
    theirs.decide(item.answer_id, *PUBLISH)
    assert visible_everywhere(app, item).showing(item.text) == SHOWN
    unseen_by_mine("decides")
    assert mine.client.get(f"/admin/moderation/{item.answer_id}").status_code == 404
    for word, data in EVERY_DECISION:
        assert mine.post(item.answer_id, word, **data).status_code == 404, word
    assert visible_everywhere(app, item).showing(item.text) == SHOWN
