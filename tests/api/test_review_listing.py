"""API v1 review lists against a plain reference: random answers, every filter, sort,
order and page, compared with what the rules say, computed here in Python from the rows
(listed: not excluded and from a public session; comment shown: published with consent,
not archived)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.catalog.models.courses import Course
from avis.catalog.models.sessions import Session
from avis.db import db
from avis.public.reviews import review_window_start
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer, CommentStatus, ExclusionReason, Reply
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import ANGERS, LAVAL, NANTES, add_answer, add_body, add_offer, add_reply
from tests.public.fixtures import publish as publish_all

FORMACODES = ("22454", "22483", "15226", "43436")
CERTIFS = ("54664", "91234")


@pytest.fixture
def world(app: Flask, app_context: None) -> dict[str, Any]:
    """Three bodies (two of one SIREN), seven offers (one too small to be listed), 90
    answers over 30 months, some on the same day, some excluded, commented or not."""
    rng = random.Random(16)
    first = add_body("Alpha Formation", siret=make_siret(8_100_001))
    second = add_body("Alpha Formation Sud", siret=make_siret(8_100_001 + 10 ** 8))
    third = add_body("Gamma Compétences", siret=make_siret(8_200_002))
    offers = []
    for body, title, place, enrolled in (
            (first, "Menuisier", NANTES, 10), (first, "Soudeur", ANGERS, 10),
            (first, "Menuisier", LAVAL, 3), (second, "Cuisinier", ANGERS, 10),
            (second, "Soudeur", NANTES, 10), (third, "Comptable", LAVAL, 10),
            (third, "Menuisier", NANTES, 10)):
        offer = add_offer(body, title, place, enrolled=enrolled,
                          formacodes=tuple(rng.sample(FORMACODES, rng.randint(0, 2))))
        offer.course.certifinfos = rng.sample(CERTIFS, rng.randint(0, 1))
        offers.append(offer)
    today = clock.today()
    days = [today - dt.timedelta(days=rng.randint(20, 900)) for _ in range(25)]
    for _ in range(90):
        offer = rng.choice(offers)
        kind = rng.random()
        status = rng.choice([CommentStatus.published, CommentStatus.published,
                             CommentStatus.pending, CommentStatus.rejected])
        answer = add_answer(offer, tuple(rng.randint(1, 5) for _ in range(5)),
                            day=rng.choice(days),
                            comment=None if kind < 0.3 else (
                                rng.choice([None, "Titre"]), f"Texte {rng.random():.6f}"),
                            status=status, public=kind < 0.85)
        if rng.random() < 0.1:
            answer.excluded_reason = ExclusionReason.fraud
        if answer.comment_text and rng.random() < 0.3:
            add_reply(answer, "Merci.", status=rng.choice([CommentStatus.published,
                                                           CommentStatus.pending]))
    publish_all()
    return {"bodies": [first, second, third], "offers": offers}


def _reference(app: Flask) -> list[dict[str, Any]]:
    """Every answer with what a list may filter and sort on, and whether it is listed and
    its comment shown: from the rows, by the rules."""
    public = {int(key) for key in db.session.scalars(sa.select(Score.key).where(
        Score.scope == ScoreScope.session, Score.is_public.is_(True)))}
    statuses = ({CommentStatus.published, CommentStatus.pending}
                if app.config["PUBLISH_COMMENTS_UNMODERATED"] else {CommentStatus.published})
    window = review_window_start()
    replies = {r.answer_id: r for r in db.session.scalars(sa.select(Reply))}
    rows = []
    for answer in db.session.scalars(sa.select(Answer)):
        course = db.session.get(Course, answer.course_id)
        session = db.session.get(Session, answer.session_id)
        shown = (answer.comment_public and answer.comment_text is not None
                 and answer.comment_status in statuses and answer.answered_on >= window)
        reply = replies.get(answer.id)
        rows.append({
            "id": answer.id, "day": answer.answered_on, "overall": answer.overall,
            "title": course.title, "body_id": answer.training_body_id, "course_id": course.id,
            "postcode": session.postcode, "formacodes": course.formacodes or [],
            "certifinfos": course.certifinfos or [],
            "listed": answer.excluded_reason is None and answer.session_id in public,
            "shown": shown,
            "reply": reply.text if shown and reply is not None and reply.status in statuses
            else None,
            "text": answer.comment_text if shown else None})
    return rows


def _expected(rows: list[dict[str, Any]], sirets: dict[int, str], query: dict[str, Any],
              ) -> list[dict[str, Any]]:
    found = [r for r in rows if r["listed"]]
    siret = query.get("organisme_formateur")
    if siret:
        found = [r for r in found if sirets[r["body_id"]].startswith(siret)
                 and (len(siret) < 14 or sirets[r["body_id"]] == siret)]
    if query.get("lieu_de_formation"):
        found = [r for r in found if r["postcode"] == query["lieu_de_formation"]]
    if query.get("certif_info"):
        found = [r for r in found if query["certif_info"] in r["certifinfos"]]
    if query.get("formacode"):
        found = [r for r in found
                 if any(code.startswith(query["formacode"]) for code in r["formacodes"])]
    if "commentaires" in query:
        wanted = query["commentaires"] == "true"
        found = [r for r in found if r["shown"] is wanted]
    key = {"date": "day", "notes": "overall", "formation": "title"}[query.get("tri", "date")]
    return sorted(found, key=lambda r: (r[key], r["id"]),
                  reverse=query.get("ordre", "desc") == "desc")


def _queries(rng: random.Random, world: dict[str, Any]) -> list[dict[str, Any]]:
    sirets = [b.siret for b in world["bodies"]]
    choices: dict[str, list[Any]] = {
        "organisme_formateur": [None, *sirets, sirets[0][:9], sirets[2][:9],
                                make_siret(8_999_999)],
        "lieu_de_formation": [None, None, NANTES.postcode, ANGERS.postcode, "75001"],
        "certif_info": [None, None, None, *CERTIFS],
        "formacode": [None, None, "22", "224", "22454", "43436", "9"],
        "commentaires": [None, None, "true", "false"],
        "tri": [None, "date", "notes", "formation"],
        "ordre": [None, "asc", "desc"],
    }
    queries = []
    for _ in range(60):
        query = {name: rng.choice(values) for name, values in choices.items()}
        queries.append({k: v for k, v in query.items() if v is not None})
    return queries


def _page(client: FlaskClient, query: dict[str, Any], page: int, per_page: int
          ) -> dict[str, Any]:
    response = client.get("/api/v1/avis", query_string={**query, "page": page,
                                                        "items_par_page": per_page})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


@pytest.mark.parametrize("unmoderated", [False, True])
def test_the_lists_equal_the_reference(app: Flask, client: FlaskClient,
                                       world: dict[str, Any], unmoderated: bool) -> None:
    app.config["PUBLISH_COMMENTS_UNMODERATED"] = unmoderated
    rows = _reference(app)
    sirets = {b.id: b.siret for b in world["bodies"]}
    assert 0 < sum(r["listed"] for r in rows) < len(rows)
    assert sum(r["listed"] and r["shown"] for r in rows) > 0
    rng = random.Random(1616)
    checked = 0
    for query in _queries(rng, world):
        expected = _expected(rows, sirets, query)
        per_page = rng.choice([3, 7, 50])
        pages = max(1, -(-len(expected) // per_page))
        for page in sorted({0, rng.randrange(pages), pages - 1, pages}):
            body = _page(client, query, page, per_page)
            assert body["meta"]["pagination"]["total_items"] == len(expected), query
            wanted = expected[page * per_page:(page + 1) * per_page]
            assert [r["id"] for r in body["avis"]] == [str(r["id"]) for r in wanted], \
                (query, page, per_page)
            for got, row in zip(body["avis"], wanted, strict=True):
                assert got.get("commentaire", {}).get("texte") == row["text"]
                assert got.get("reponse", {}).get("texte") == row["reply"]
            checked += len(wanted)
    assert checked > 200


def test_a_body_and_a_course_list_their_own(client: FlaskClient,
                                            world: dict[str, Any]) -> None:
    rows = _reference(client.application)
    body = world["bodies"][0]
    expected = sorted((r for r in rows if r["listed"] and r["body_id"] == body.id),
                      key=lambda r: (r["day"], r["id"]), reverse=True)
    got = client.get(f"/api/v1/organismes-formateurs/{body.siret}/avis"
                     "?items_par_page=2000").get_json()
    assert [r["id"] for r in got["avis"]] == [str(r["id"]) for r in expected]
    course = world["offers"][1].course
    expected = sorted((r for r in rows if r["listed"] and r["course_id"] == course.id),
                      key=lambda r: (r["day"], r["id"]), reverse=True)
    got = client.get(f"/api/v1/formations/{course.numero}/avis?items_par_page=2000"
                     ).get_json()
    assert [r["id"] for r in got["avis"]] == [str(r["id"]) for r in expected]
    assert got["meta"]["pagination"]["total_items"] == len(expected)
