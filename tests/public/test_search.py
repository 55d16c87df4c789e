"""The public search: each criterion, the filters, pagination and odd input, through
the real page; and the index kept in line with the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from avis.db import db
from avis.public.models import SearchTerm
from avis.public.search import PAGE_SIZE, Query, rebuild_index, search, words
from tests.catalog.fixtures import generic_row, make_siret, write_csv
from tests.public.fixtures import (
    ANGERS,
    NANTES,
    PublicWorld,
    add_body,
    add_offer,
    publish,
)

SIRET_LINK = re.compile(r'href="/organismes/([0-9]{14})[?"]')


def found(client: FlaskClient, query: str, expect_status: int = 200) -> list[str]:
    """The SIRETs of the results of ``/?…query``, in page order."""
    response = client.get(f"/?{query}")
    assert response.status_code == expect_status, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    results = html.split('class="results"', 1)
    return SIRET_LINK.findall(results[1]) if len(results) == 2 else []


def test_words_are_lower_case_unaccented_and_without_stop_words() -> None:
    assert words("Électricien du BÂTIMENT, Saint-Nazaire (44600)") == [
        "electricien", "batiment", "saint", "nazaire", "44600"]
    assert words("%_ ' -- ") == []
    assert words("L'école de la 2e chance") == ["ecole", "2e", "chance"]


@pytest.mark.parametrize(("query", "bodies"), [
    ("q=atlantique", ["atlantique"]),  # a word of the name
    ("q=Compétences", ["anjou"]),  # accents and case do not matter
    ("q=competen", ["anjou"]),  # the beginning of a word
    ("q=soudeur", ["atlantique"]),  # a course title
    ("q=restauration+collective", ["anjou"]),  # every word must match
    ("q=restauration+soudeur", []),
    ("q=43436", ["atlantique"]),  # a formacode
    ("q=Laval", ["atlantique", "mayenne"]),  # a town, best score first
    ("q=49000", ["anjou"]),  # a postcode
    ("q=53", ["atlantique", "mayenne"]),  # the beginning of a postcode
    ("q=Rennes", ["bretagne"]),  # a body without answers is found too
    ("departement=49", ["anjou"]),  # a filter alone
    ("q=laval&departement=53", ["atlantique", "mayenne"]),
    ("q=nantes&departement=49", []),
    ("financeur=4", ["atlantique", "anjou", "mayenne"]),  # France Travail: Angers, Laval
    ("financeur=10", ["bretagne"]),
    ("q=laval&financeur=4&departement=53", ["atlantique", "mayenne"]),
])
def test_each_criterion_and_filter(client: FlaskClient, public_world: PublicWorld,
                                   query: str, bodies: list[str]) -> None:
    expected = [getattr(public_world, name).siret for name in bodies]
    assert found(client, query) == expected


def test_a_siret_or_the_beginning_of_a_siren_finds_the_body(
        client: FlaskClient, public_world: PublicWorld) -> None:
    siret = public_world.anjou.siret
    assert found(client, f"q={siret}") == [siret]
    assert found(client, f"q={siret[:9]}") == [siret]
    # As printed on an invoice, with spaces, the SIRET is read as three words.
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert found(client, f"q={spaced}") == []


def test_results_show_the_score_or_not_enough_reviews(client: FlaskClient,
                                                      public_world: PublicWorld) -> None:
    html = client.get("/?q=laval").get_data(as_text=True)
    results = html.split('class="results"', 1)[1]
    assert "2 organismes trouvés" in html
    atlantique, mayenne = results.split("<li", 2)[1:]
    assert re.search(r"<strong>\d,\d / 5</strong> · 30 avis", atlantique)
    assert "Pas encore assez d’avis · 2 avis" in mayenne
    assert "Laval (53000)" in mayenne


def test_results_are_paginated(client: FlaskClient, app_context: None) -> None:
    for n in range(PAGE_SIZE + 5):
        add_offer(add_body(f"Organisme Loire {n:02d}"), "Maçon", NANTES, enrolled=1)
    publish()
    first = found(client, "q=loire")
    second = found(client, "q=loire&page=2")
    assert len(first) == PAGE_SIZE
    assert len(second) == 5
    assert not set(first) & set(second)
    html = client.get("/?q=loire").get_data(as_text=True)
    assert "25 organismes trouvés" in html
    assert "Page 1 sur 2" in html
    assert 'rel="next" href="/?q=loire&amp;page=2"' in html
    # Beyond the last page: no result, and a way back.
    beyond = client.get("/?q=loire&page=3")
    assert beyond.status_code == 200
    assert "Cette page n’a pas de résultat." in beyond.get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1001", "1.5"])
def test_a_bad_page_number_is_a_french_400(client: FlaskClient, public_world: PublicWorld,
                                           page: str) -> None:
    response = client.get(f"/?q=laval&page={page}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "La recherche n’a pas pu être faite" in html


def test_empty_results_say_so(client: FlaskClient, public_world: PublicWorld) -> None:
    html = client.get("/?q=zzzzzz").get_data(as_text=True)
    assert "0 organisme trouvé" in html
    assert "Aucun organisme ne correspond à cette recherche." in html


def test_like_wildcards_are_plain_characters(client: FlaskClient,
                                             public_world: PublicWorld) -> None:
    """``%`` and ``_`` mean nothing special: they are not word characters at all."""
    for query in ("q=%25", "q=_", "q=%25_", "q=laval%25", "q=l_val"):
        response = client.get(f"/?{query}")
        assert response.status_code == 200
    assert found(client, "q=%25_") == []
    assert found(client, "q=%25laval_") == [public_world.atlantique.siret,
                                             public_world.mayenne.siret]
    assert found(client, "q=l_val") == []


def test_a_10_kb_query_is_refused_in_french_and_not_echoed_whole(
        client: FlaskClient, public_world: PublicWorld) -> None:
    response = client.get("/?q=" + "laval " * 1700)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "La recherche est limitée à 200 caractères." in html
    assert len(html) < 20_000


def test_markup_in_the_query_is_escaped(client: FlaskClient, public_world: PublicWorld) -> None:
    html = client.get("/?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("query", ["departement=99", "departement=%27", "financeur=8",
                                   "financeur=abc"])
def test_an_unknown_filter_value_is_a_french_400(client: FlaskClient,
                                                 public_world: PublicWorld, query: str) -> None:
    response = client.get(f"/?q=laval&{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert ("Choisissez un département de la liste." in html
            or "Choisissez un financeur de la liste." in html)


def test_the_search_in_english(client: FlaskClient, public_world: PublicWorld) -> None:
    html = client.get("/?q=laval&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "2 training bodies found" in html
    # The language link keeps the search.
    assert 'href="/?q=laval&amp;lang=fr"' in html


def test_the_home_page_lists_the_catalogue_without_a_query(
        client: FlaskClient, public_world: PublicWorld) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'class="results"' not in html
    assert 'href="/?departement=49"' in html


def test_the_index_follows_the_catalogue(app_context: None) -> None:
    body = add_body("Ancien Nom Formation")
    offer = add_offer(body, "Boulanger", ANGERS, enrolled=1)
    publish()
    assert search(Query("ancien")).total == 1
    body.name = "Nouveau Nom Formation"
    offer.session.city, offer.session.postcode = "Saumur", "49400"
    db.session.commit()
    assert rebuild_index()["removed"] >= 3  # "ancien", "angers", "49000"
    assert search(Query("ancien")).total == 0
    assert search(Query("angers")).total == 0
    assert [r.name for r in search(Query("saumur nouveau")).items] == ["Nouveau Nom Formation"]
    # Nothing changed: nothing written.
    assert rebuild_index() == {"added": 0, "removed": 0}
    terms = set(db.session.scalars(
        sa.select(SearchTerm.term).where(SearchTerm.training_body_id == body.id)))
    assert {"nouveau", "nom", "formation", "boulanger", "saumur", "49400", body.siret,
            "dep:49", "fin:4"} == terms


def test_an_import_makes_new_bodies_searchable_at_once(
        runner: FlaskCliRunner, app_context: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "stagiaires.csv", [generic_row(1), generic_row(2)])
    assert search(Query("ouest cuisine angers")).total == 0
    result = runner.invoke(args=["import", "trainees", str(path)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert [r.name for r in search(Query("ouest cuisine angers")).items] == [
        "Formation Ouest Nantes"]
    # A dry run writes nothing, the index neither.
    other = write_csv(tmp_path / "autres.csv", [generic_row(
        3, siret_formateur=make_siret(999), raison_sociale_formateur="Essai Sec",
        session_id="SE9", action_numero="AC9", formation_numero="F9")])
    result = runner.invoke(args=["import", "trainees", "--dry-run", str(other)])
    assert result.exit_code == 0, result.output
    assert search(Query("essai")).total == 0


def import_rows(runner: FlaskCliRunner, path: Path, rows: list[dict[str, str]]) -> None:
    """``avis import trainees`` of ``rows`` written to ``path``; then the test's session
    reads what the command committed."""
    result = runner.invoke(args=["import", "trainees", str(write_csv(path, rows))])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def phantom_holders() -> set[int]:
    """The bodies still holding the term no catalogue row gives (planted by the test)."""
    return set(db.session.scalars(sa.select(SearchTerm.training_body_id)
                                  .where(SearchTerm.term == "zzfantome")))


def test_an_import_indexes_the_bodies_it_changed_and_only_those(
        runner: FlaskCliRunner, app_context: None, tmp_path: Path) -> None:
    """After an import, the bodies whose row, actions, sessions or courses it wrote are
    brought in line; the others are not read again (a re-import costs no index work)."""
    other_siret = make_siret(777)
    first = [generic_row(1),
             generic_row(2, siret_formateur=other_siret, raison_sociale_formateur="Atelier Bleu",
                         session_id="SE7", action_numero="AC7", formation_numero="F7",
                         formation_intitule="Soudeur", ville="Cholet", code_postal="49300")]
    import_rows(runner, tmp_path / "a.csv", first)
    ids = dict(db.session.execute(sa.text("SELECT siret, id FROM training_bodies")).all())
    ouest, bleu = ids[generic_row()["siret_formateur"]], ids[other_siret]

    # A term that no catalogue row gives, on each body: only a body brought in line
    # loses it; the hourly rebuild would take both.
    db.session.execute(sa.insert(SearchTerm), [
        {"term": "zzfantome", "training_body_id": ouest},
        {"term": "zzfantome", "training_body_id": bleu}])
    db.session.commit()

    # The same file again: nothing changes, no body is brought in line.
    import_rows(runner, tmp_path / "b.csv", first)
    assert phantom_holders() == {ouest, bleu}

    # A new session of the first body in another town: that body only.
    second = [generic_row(3, session_id="SE8", session_numero="S8", ville="Saumur",
                          code_postal="49400")]
    import_rows(runner, tmp_path / "c.csv", second)
    assert [r.name for r in search(Query("saumur")).items] == ["Formation Ouest Nantes"]
    assert phantom_holders() == {bleu}

    # A renamed course (its title is indexed for every body teaching it).
    renamed = [generic_row(4, siret_formateur=other_siret, raison_sociale_formateur="Atelier Bleu",
                           session_id="SE7", action_numero="AC7", formation_numero="F7",
                           formation_intitule="Chaudronnier", ville="Cholet",
                           code_postal="49300")]
    import_rows(runner, tmp_path / "d.csv", renamed)
    assert [r.name for r in search(Query("chaudronnier")).items] == ["Atelier Bleu"]
    assert search(Query("soudeur")).total == 0
    assert phantom_holders() == set()
