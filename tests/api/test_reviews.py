"""API v1 reviews: ANOTEA's pinned behaviours (ANCHORS.md), and our protections."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from avis.surveys.models.answers import CommentStatus
from tests.public.fixtures import (
    ANGERS,
    NANTES,
    PublicWorld,
    add_answer,
    add_body,
    add_offer,
    add_reply,
    publish,
)


def get(client: FlaskClient, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/json"
    return response.get_json()


@pytest.fixture
def three(app_context: None) -> dict:
    """One body, three reviews: overall 2.4, 4.6 and 3.0, in three months."""
    body = add_body("Trois Avis Formation")
    offer = add_offer(body, "Menuisier", ANGERS, formacodes=("22454", "15226"))
    low = add_answer(offer, (2, 3, 2, 3, 2), day=dt.date(2026, 9, 14),
                     comment=("Bof", "Pas terrible."))
    high = add_answer(offer, (5, 5, 4, 5, 4), day=dt.date(2026, 10, 3))
    middle = add_answer(offer, (3, 3, 3, 3, 3), day=dt.date(2026, 11, 20),
                        comment=("Refusé", "Texte refusé."), status=CommentStatus.rejected)
    add_reply(low, "Merci, nous progressons.")
    publish()
    return {"body": body, "offer": offer, "low": low, "high": high, "middle": middle}


def test_pagination_meta_as_anotea(client: FlaskClient, three: dict) -> None:
    siret = three["body"].siret
    page = get(client, f"/api/v1/avis?organisme_formateur={siret}&items_par_page=2&page=1")
    assert page["meta"] == {"pagination": {"page": 1, "items_par_page": 2, "total_items": 3,
                                           "total_pages": 2}}
    assert len(page["avis"]) == 1
    nothing = get(client, "/api/v1/avis?organisme_formateur=999999999")
    assert nothing == {"avis": [], "meta": {"pagination": {
        "page": 0, "items_par_page": 50, "total_items": 0, "total_pages": 0}}}


def test_items_par_page_above_2000_is_refused_with_details(client: FlaskClient,
                                                            three: dict) -> None:
    body = get(client, "/api/v1/avis?items_par_page=5000", 400)
    assert body["statusCode"] == 400
    assert body["error"] == "Bad Request"
    assert body["message"] == "Erreur de validation"
    assert body["details"][0]["message"] == '"items_par_page" must be less than or equal to 2000'


@pytest.mark.parametrize("query", ["organisme_formateur=12345678", "page=-1", "page=abc",
                                   "notes_decimales=peut-etre", "tri=prix", "ordre=haut",
                                   "formacode=22a", "lieu_de_formation=4400", "inconnu=1"])
def test_invalid_parameters_are_a_validation_error(client: FlaskClient, three: dict,
                                                   query: str) -> None:
    body = get(client, f"/api/v1/avis?{query}", 400)
    assert body["message"] == "Erreur de validation"
    assert body["details"][0]["path"] == [query.split("=")[0]]


def test_a_review_by_id(client: FlaskClient, three: dict) -> None:
    low = three["low"]
    review = get(client, f"/api/v1/avis/{low.id}")
    assert review["id"] == str(low.id)
    assert review["date"] == "2026-09-01"  # the month only
    assert review["commentaire"] == {"titre": "Bof", "texte": "Pas terrible."}
    assert review["reponse"] == {"texte": "Merci, nous progressons."}
    assert review["notes"] == {"accueil": 2, "contenu_formation": 3, "equipe_formateurs": 2,
                               "moyen_materiel": 3, "accompagnement": 2, "global": 2}
    action = review["formation"]["action"]
    assert review["formation"]["intitule"] == "Menuisier"
    assert review["formation"]["domaine_formation"] == {"formacodes": ["22454", "15226"]}
    assert action["lieu_de_formation"] == {"code_postal": "49000", "ville": "Angers"}
    assert action["organisme_formateur"]["siret"] == three["body"].siret
    assert action["organisme_financeurs"] == [{"code_financeur": "4"}]
    assert set(action["session"]["periode"]) == {"debut", "fin"}


def test_unknown_and_malformed_ids(client: FlaskClient, three: dict) -> None:
    assert get(client, "/api/v1/avis/987654321", 404) == {
        "statusCode": 404, "error": "Not Found", "message": "Identifiant inconnu"}
    # Beyond a 32-bit id (PostgreSQL refused to compare it: found by schemathesis).
    assert get(client, "/api/v1/avis/3000000000", 404)["message"] == "Identifiant inconnu"
    assert get(client, "/api/v1/avis/5f1e2b3c4d", 400)["message"] == "Identifiant invalide"


def test_marks_are_whole_unless_decimals_are_asked(client: FlaskClient, three: dict) -> None:
    low = three["low"].id
    assert get(client, f"/api/v1/avis/{low}")["notes"]["global"] == 2
    assert get(client, f"/api/v1/avis/{low}?notes_decimales=true")["notes"]["global"] == 2.4
    high = three["high"].id
    # 4.6 rounds half up to 5, as ANOTEA's clients expect.
    assert get(client, f"/api/v1/avis/{high}")["notes"]["global"] == 5


def test_sorts_and_orders(client: FlaskClient, three: dict) -> None:
    base = f"/api/v1/avis?organisme_formateur={three['body'].siret}"
    ids = lambda url: [a["id"] for a in get(client, url)["avis"]]  # noqa: E731
    low, high, middle = (str(three[k].id) for k in ("low", "high", "middle"))
    assert ids(base) == [middle, high, low]  # newest answer first
    assert ids(base + "&tri=date&ordre=asc") == [low, high, middle]
    assert ids(base + "&tri=notes") == [high, middle, low]
    assert ids(base + "&tri=notes&ordre=asc") == [low, middle, high]
    other = add_offer(three["body"], "Accueil en hôtellerie", ANGERS)
    first = add_answer(other, (4, 4, 4, 4, 4), day=dt.date(2026, 1, 5))
    publish()
    assert ids(base + "&tri=formation&ordre=asc")[0] == str(first.id)


def test_comments_filter_and_moderation(client: FlaskClient, three: dict) -> None:
    base = f"/api/v1/avis?organisme_formateur={three['body'].siret}"
    with_comment = get(client, base + "&commentaires=true")["avis"]
    assert [a["id"] for a in with_comment] == [str(three["low"].id)]
    without = get(client, base + "&commentaires=false")["avis"]
    assert {a["id"] for a in without} == {str(three["high"].id), str(three["middle"].id)}
    # A rejected comment never appears; its marks do.
    rejected = get(client, f"/api/v1/avis/{three['middle'].id}")
    assert "commentaire" not in rejected
    assert rejected["notes"]["global"] == 3


def test_filters(client: FlaskClient, three: dict, public_world: PublicWorld) -> None:
    count = lambda q: get(client, f"/api/v1/avis?{q}")["meta"]["pagination"][  # noqa: E731
        "total_items"]
    assert count(f"organisme_formateur={three['body'].siret}") == 3
    assert count(f"organisme_formateur={three['body'].siret[:9]}") == 3  # the SIREN
    assert count("lieu_de_formation=49000") == 3 + 8  # and Anjou's eight
    assert count("formacode=15226") == 3
    assert count("formacode=152") == 3  # a domain: the beginning of a formacode
    assert count("formacode=454") == 0  # anchored at the start (22454 holds 454)
    assert count("formacode=22") == 3 + 24  # Menuisier and Soudeur (22683)
    total = count("")
    assert total == 3 + 24 + 6 + 8 + 2


def test_reviews_of_small_sessions_are_not_listed(client: FlaskClient,
                                                  app_context: None) -> None:
    body = add_body("Tout Petit Groupe")
    small = add_offer(body, "Horloger", NANTES, enrolled=3)
    answer = add_answer(small, (5, 5, 5, 5, 5), comment=("Nous trois", "Super."))
    publish()
    assert get(client, f"/api/v1/avis?organisme_formateur={body.siret}")["avis"] == []
    get(client, f"/api/v1/avis/{answer.id}", 404)


def test_fields(client: FlaskClient, three: dict) -> None:
    review = get(client, f"/api/v1/avis/{three['high'].id}?fields=notes")
    assert set(review) == {"id", "notes"}
    review = get(client, f"/api/v1/avis/{three['high'].id}?fields=-formation,-notes")
    assert set(review) == {"id", "date"}
    listed = get(client, "/api/v1/avis?fields=date&items_par_page=2")["avis"]
    assert all(set(a) == {"id", "date"} for a in listed)


def test_ping(client: FlaskClient) -> None:
    assert get(client, "/api/v1/ping/anonymous") == {"user": "anonymous"}


def test_etag_cors_and_conditional_get(client: FlaskClient, three: dict) -> None:
    url = f"/api/v1/avis/{three['low'].id}"
    first = client.get(url)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_answers_are_kept_a_while_per_url_and_media_type(
        database_url: str, tmp_path, three: dict) -> None:
    from avis import create_app
    from avis.db import db
    from avis.public.caching import cache

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PAGE_CACHE_SECONDS": 60}, instance_path=tmp_path)
    client = app.test_client()
    url = f"/api/v1/avis?organisme_formateur={three['body'].siret}"
    first = client.get(url).get_json()
    assert first["meta"]["pagination"]["total_items"] == 3
    add_answer(three["offer"], (4, 4, 4, 4, 4))
    publish()
    again = client.get(url)
    assert again.get_json() == first
    assert "ETag" in again.headers
    assert client.get(url, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304
    # Errors are never kept.
    assert client.get("/api/v1/avis/987654321").status_code == 404
    with app.app_context():
        assert not [k for k in cache.cache._cache if "987654321" in k]
        cache.clear()
    assert client.get(url).get_json()["meta"]["pagination"]["total_items"] == 4
    with app.app_context():
        db.engine.dispose()


def test_a_conditional_get_of_a_kept_answer_does_no_work(
        database_url: str, tmp_path, three: dict) -> None:
    """With the page cache on, a 304 for the kept answer's ETag is given before the view
    runs: not one SQL statement. Another ETag, or a cleared cache, gets the full answer."""
    import sqlalchemy as sa

    from avis import create_app
    from avis.db import db
    from avis.public.caching import cache

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PAGE_CACHE_SECONDS": 60}, instance_path=tmp_path)
    client = app.test_client()
    url = f"/api/v1/avis?organisme_formateur={three['body'].siret}"
    first = client.get(url)
    etag = first.headers["ETag"]
    statements: list[str] = []

    def note(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        early = client.get(url, headers={"If-None-Match": etag})
        assert early.status_code == 304
        assert early.data == b""
        assert early.headers["ETag"] == etag
        assert early.headers["Cache-Control"] == "public, max-age=300"
        assert early.headers["Access-Control-Allow-Origin"] == "*"
        assert "Accept" in early.headers["Vary"]
        # Weak comparison, and a list of tags, as HTTP says for If-None-Match.
        listed = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
        assert listed.status_code == 304
        # Proof that the view did not run, nor was its answer needed: without the kept
        # answer (its note of the ETag stays), the 304 still costs no statement.
        with app.app_context():
            [page_key] = [k for k in cache.cache._cache if k.startswith("api:")]
            cache.delete(page_key)
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert statements == []
        assert statements == []
        other = client.get(url, headers={"If-None-Match": '"not-this-one"'})
        assert (other.status_code, other.headers["ETag"]) == (200, etag)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    add_answer(three["offer"], (4, 4, 4, 4, 4))
    publish()
    with app.app_context():
        cache.clear()
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.get_json()["meta"]["pagination"]["total_items"] == 4
    with app.app_context():
        db.engine.dispose()


def test_revalidations_are_answered_before_the_rate_limit_but_not_signed_calls(
        database_url: str, tmp_path, three: dict) -> None:
    """A 304 from the page cache costs less than counting it: it is not counted. A
    signed call goes through the application, so a bad signature is refused even with
    the right ETag."""
    from avis import create_app
    from avis.api.auth import SCHEME
    from avis.db import db

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PAGE_CACHE_SECONDS": 60, "API_RATE_LIMIT": "2 per minute"},
                     instance_path=tmp_path)
    client = app.test_client()
    url = f"/api/v1/avis/{three['low'].id}"
    etag = client.get(url).headers["ETag"]
    for _ in range(5):
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    # A tag that is not the kept answer's is an ordinary request: counted, refused.
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 429
    signed = client.get(url, headers={"If-None-Match": etag,
                                      "Authorization": f"{SCHEME}unknown:1:00"})
    assert signed.status_code == 401
    with app.app_context():
        db.engine.dispose()
