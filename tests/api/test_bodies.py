"""API v1 training bodies: list, filters, single body, its reviews; the score's
thresholds as on the public pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient

from avis.db import db
from avis.scores.models import Score, ScoreScope
from tests.api.test_reviews import get
from tests.public.fixtures import NANTES, PublicWorld, add_answer, add_body, add_offer, publish


def test_the_list_holds_training_bodies_only(client: FlaskClient,
                                             public_world: PublicWorld) -> None:
    # A body that only holds contracts (responsible, never teaching) is not listed.
    add_body("Organisme Responsable Seulement")
    publish()
    listed = get(client, "/api/v1/organismes-formateurs")
    sirets = {b["siret"] for b in listed["organismes_formateurs"]}
    assert sirets == {public_world.atlantique.siret, public_world.anjou.siret,
                      public_world.mayenne.siret, public_world.bretagne.siret}
    assert listed["meta"]["pagination"]["total_items"] == 4


def test_filters(client: FlaskClient, public_world: PublicWorld) -> None:
    sirets = lambda q: [b["siret"] for b in get(  # noqa: E731
        client, f"/api/v1/organismes-formateurs?{q}")["organismes_formateurs"]]
    assert sirets(f"siret={public_world.anjou.siret}") == [public_world.anjou.siret]
    assert sirets("lieu_de_formation=53000") == sorted(
        [public_world.atlantique.siret, public_world.mayenne.siret])
    assert sirets("lieu_de_formation=53") == [public_world.bretagne.siret]  # region code
    assert sirets("nb_avis=8") == sorted([public_world.atlantique.siret,
                                          public_world.anjou.siret])
    assert sirets("numero=123") == []
    assert get(client, "/api/v1/organismes-formateurs?siret=123", 400)["message"] == (
        "Erreur de validation")


def test_a_body_with_its_score(client: FlaskClient, public_world: PublicWorld) -> None:
    body = public_world.atlantique
    score = db.session.scalars(sa.select(Score).where(
        Score.scope == ScoreScope.body, Score.key == str(body.id))).one()
    document = get(client, f"/api/v1/organismes-formateurs/{body.siret}?notes_decimales=true")
    assert document["raison_sociale"] == body.name
    assert document["region"] == ["52"]
    assert {"adresse": {"code_postal": "53000", "ville": "Laval", "region": "52"}} in document[
        "lieux_de_formation"]
    anotea = document["score"]
    assert anotea["nb_avis"] == 30
    assert anotea["notes"]["global"] == round(score.mean_overall + 1e-9, 1)
    assert set(anotea["notes"]) == {"accueil", "contenu_formation", "equipe_formateurs",
                                    "moyen_materiel", "accompagnement", "global"}
    assert anotea["aggregation"]["global"]["max"] >= anotea["aggregation"]["global"]["min"]
    fair = anotea["note_ajustee"]
    assert fair["valeur"] == round(score.fair_score, 2)
    assert fair["poids_a_priori"] == 5
    assert fair["intervalle_90"]["min"] <= fair["valeur"] <= fair["intervalle_90"]["max"]
    assert sum(anotea["repartition"]["accueil"].values()) == 30


def test_below_the_thresholds_only_counts_are_given(client: FlaskClient,
                                                    public_world: PublicWorld) -> None:
    few = get(client, f"/api/v1/organismes-formateurs/{public_world.mayenne.siret}")["score"]
    assert few["nb_avis"] == 2
    assert "notes" not in few
    assert "note_ajustee" not in few
    none = get(client, f"/api/v1/organismes-formateurs/{public_world.bretagne.siret}")["score"]
    assert none["nb_avis"] == 0
    assert "notes" not in none
    small = add_body("Trois Stagiaires")
    offer = add_offer(small, "Tapissier", NANTES, enrolled=3)
    for marks in [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (3, 3, 3, 3, 3)]:
        add_answer(offer, marks)
    publish()
    tiny = get(client, f"/api/v1/organismes-formateurs/{small.siret}")["score"]
    assert tiny["nb_avis"] == 3
    assert "notes" not in tiny


def test_fields_on_a_body_and_a_list(client: FlaskClient, public_world: PublicWorld) -> None:
    siret = public_world.anjou.siret
    assert set(get(client, f"/api/v1/organismes-formateurs/{siret}?fields=score")) == {
        "id", "score"}
    rest = get(client, f"/api/v1/organismes-formateurs/{siret}?fields=-score")
    assert "score" not in rest
    assert rest["siret"] == siret
    listed = get(client, "/api/v1/organismes-formateurs?fields=score")["organismes_formateurs"]
    assert all(set(b) == {"id", "score"} for b in listed)


def test_unknown_and_malformed_sirets(client: FlaskClient, public_world: PublicWorld) -> None:
    assert get(client, "/api/v1/organismes-formateurs/12345678901234", 404)["message"] == (
        "Identifiant inconnu")
    assert get(client, "/api/v1/organismes-formateurs/1234", 400)["message"] == (
        "Identifiant invalide")


def test_a_body_s_reviews(client: FlaskClient, public_world: PublicWorld) -> None:
    siret = public_world.anjou.siret
    page = get(client, f"/api/v1/organismes-formateurs/{siret}/avis?items_par_page=5")
    assert page["meta"]["pagination"] == {"page": 0, "items_par_page": 5, "total_items": 8,
                                          "total_pages": 2}
    assert all(a["formation"]["action"]["organisme_formateur"]["siret"] == siret
               for a in page["avis"])
    get(client, "/api/v1/organismes-formateurs/12345678901234/avis", 404)


def test_an_exact_half_rounds_up(client: FlaskClient, app_context: None) -> None:
    """ANOTEA's clients expect 2.5 → 3 and 2.25 → 2.3 (half up), where Python's round()
    and PostgreSQL's float rounding give 2 and 2.2 (half to even)."""
    body = add_body("Demi Point Formation")
    offer = add_offer(body, "Carreleur", NANTES, formacodes=("22429",), enrolled=12)
    # Welcome: 2, 3, 2, 3 → 2.5. Content: 2, 2, 3, 2 → 2.25.
    for welcome, content in ((2, 2), (3, 2), (2, 3), (3, 2)):
        add_answer(offer, (welcome, content, 4, 4, 4))
    publish()
    url = f"/api/v1/organismes-formateurs/{body.siret}"
    notes = get(client, url)["score"]["notes"]
    assert notes["accueil"] == 3
    assert get(client, url + "?notes_decimales=true")["score"]["notes"]["contenu_formation"] == 2.3
