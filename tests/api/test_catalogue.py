"""API v1 courses, actions and sessions: identifiers, filters, embedded reviews,
``fields=-avis``, ANOTEA's 404 messages; JSON errors on every API path."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.test_reviews import get
from tests.public.fixtures import NANTES, PublicWorld, add_answer, add_body, add_offer, publish


def ids(world: PublicWorld, name: str) -> tuple[str, str, str]:
    offer = world.offers[name]
    course, action = offer.course.numero, f"{offer.course.numero}|{offer.action.numero}"
    return course, action, f"{action}|{offer.session.numero}"


def test_a_course_with_its_score_and_reviews(client: FlaskClient,
                                             public_world: PublicWorld) -> None:
    course, _action, _session = ids(public_world, "anjou")
    document = get(client, f"/api/v1/formations/{course}")
    assert document["id"] == course
    assert document["intitule"] == "Cuisinier en restauration collective"
    assert document["score"]["nb_avis"] == 8
    assert "notes" in document["score"]
    assert len(document["avis"]) == 8
    assert document["meta"]["reconciliation"]["formacodes"] == ["42752"]
    assert document["meta"]["reconciliation"]["organisme_formateurs"] == [
        public_world.anjou.siret]
    assert set(get(client, f"/api/v1/formations/{course}?fields=-avis")) == {
        "id", "numero", "intitule", "score", "meta"}
    assert set(get(client, f"/api/v1/formations/{course}?fields=score")) == {"id", "score"}


def test_an_action_and_a_session(client: FlaskClient, public_world: PublicWorld) -> None:
    _course, action, session = ids(public_world, "welding")
    found = get(client, f"/api/v1/actions/{action}")
    assert found["id"] == action
    assert found["region"] == "52"
    assert found["meta"]["reconciliation"]["organisme_formateur"] == (
        public_world.atlantique.siret)
    assert found["meta"]["reconciliation"]["lieu_de_formation"] == "44000"
    assert found["score"]["nb_avis"] == 24
    one = get(client, f"/api/v1/sessions/{session}")
    assert one["id"] == session
    assert one["meta"]["source"]["numero_session"] == public_world.offers[
        "welding"].session.numero
    page = get(client, f"/api/v1/sessions/{session}/avis?items_par_page=10&page=2")
    assert page["meta"]["pagination"] == {"page": 2, "items_par_page": 10, "total_items": 24,
                                          "total_pages": 3}
    assert len(page["avis"]) == 4


@pytest.mark.parametrize(("path", "message"), [
    ("formations/INCONNUE", "Numéro formation inconnu ou formation expirée"),
    ("actions/A|B", "Numéro action inconnu ou action expirée"),
    ("sessions/A|B|C", "Numéro session inconnu ou session expirée"),
])
def test_unknown_numbers_are_anotea_s_404(client: FlaskClient, public_world: PublicWorld,
                                          path: str, message: str) -> None:
    assert get(client, f"/api/v1/{path}", 404)["message"] == message


@pytest.mark.parametrize("path", ["actions/SEUL", "sessions/A|B", "sessions/A||C"])
def test_malformed_identifiers_are_400(client: FlaskClient, public_world: PublicWorld,
                                       path: str) -> None:
    assert get(client, f"/api/v1/{path}", 400)["message"] == "Identifiant invalide"


def test_lists_and_their_filters(client: FlaskClient, public_world: PublicWorld) -> None:
    course, action, session = ids(public_world, "anjou")
    listed = get(client, "/api/v1/formations?fields=-avis")
    assert listed["meta"]["pagination"]["total_items"] == 5
    assert get(client, f"/api/v1/formations?id={course}")["formations"][0]["id"] == course
    assert [a["id"] for a in get(client, f"/api/v1/actions?id={action}")["actions"]] == [action]
    assert [s["id"] for s in get(client, f"/api/v1/sessions?id={session}")["sessions"]] == [
        session]
    assert get(client, "/api/v1/sessions?id=nimporte")["sessions"] == []
    regions = {s["region"] for s in get(client, "/api/v1/sessions?region=53")["sessions"]}
    assert regions == {"53"}
    many = get(client, "/api/v1/actions?nb_avis=8&fields=score")["actions"]
    assert sorted(a["score"]["nb_avis"] for a in many) == [8, 24]


def test_a_small_session_shows_neither_score_nor_reviews(client: FlaskClient,
                                                         app_context: None) -> None:
    offer = add_offer(add_body("Trois Seulement"), "Sellier", NANTES, enrolled=3)
    for marks in [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (3, 3, 3, 3, 3)]:
        add_answer(offer, marks, comment=("Titre", "Texte"))
    publish()
    session = f"{offer.course.numero}|{offer.action.numero}|{offer.session.numero}"
    document = get(client, f"/api/v1/sessions/{session}")
    assert document["score"]["nb_avis"] == 3
    assert "notes" not in document["score"]
    assert document["avis"] == []


def test_unknown_api_paths_and_methods_answer_json(client: FlaskClient) -> None:
    assert get(client, "/api/v1/nulle-part", 404)["statusCode"] == 404
    refused = client.post("/api/v1/avis")
    assert refused.status_code == 405
    assert refused.get_json()["error"] == "Method Not Allowed"


def test_control_characters_are_refused_not_sent_to_the_database(
        client: FlaskClient, public_world: PublicWorld) -> None:
    """PostgreSQL refuses NUL in text: found by schemathesis as a 500."""
    assert get(client, "/api/v1/formations?numero=a%00b", 400)["message"] == (
        "Erreur de validation")
    assert get(client, "/api/v1/sessions?id=a|b|%00", 400)["details"][0]["path"] == ["id"]
    assert get(client, "/api/v1/actions/a%00|b", 400)["message"] == "Identifiant invalide"
    assert client.get("/formations/a%00b").status_code == 404
