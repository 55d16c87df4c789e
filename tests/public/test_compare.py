"""The comparison page: two to four bodies side by side, built from the search."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.public.fixtures import PublicWorld

COLUMN = re.compile(r'<th scope="col"><a href="/organismes/([0-9]{14})">')


def compare(client: FlaskClient, *sirets: str, status: int = 200) -> str:
    query = "&".join(f"siret={s}" for s in sirets)
    response = client.get(f"/comparer?{query}")
    assert response.status_code == status
    return response.get_data(as_text=True)


@pytest.mark.parametrize("names", [("atlantique", "anjou"),
                                   ("anjou", "mayenne", "atlantique"),
                                   ("bretagne", "atlantique", "mayenne", "anjou")])
def test_two_to_four_bodies_side_by_side_in_the_order_given(
        client: FlaskClient, public_world: PublicWorld, names: tuple[str, ...]) -> None:
    sirets = [getattr(public_world, name).siret for name in names]
    html = compare(client, *sirets)
    assert COLUMN.findall(html) == sirets
    assert f"{len(names)} organismes côte à côte" in html
    assert "error-summary" not in html
    # A row per figure, a cell per body.
    for row in ("Note", "Avis", "Taux de réponse", "L’accueil", "En emploi 6 mois après",
                "Lieux"):
        cells = html.split(f'<th scope="row">{row}</th>', 1)[1].split("</tr>", 1)[0]
        assert cells.count("<td") == len(names), row


def test_scores_and_their_absence_are_shown(client: FlaskClient,
                                            public_world: PublicWorld) -> None:
    html = compare(client, public_world.atlantique.siret, public_world.mayenne.siret)
    rating = html.split('<th scope="row">Note</th>', 1)[1].split("</tr>", 1)[0]
    first, second = rating.split("<td")[1:]
    assert '<svg class="scale"' in first
    assert "intervalle à 90 %" in first
    assert "Pas encore assez d’avis" in second
    reviews = html.split('<th scope="row">Avis</th>', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">(\d+)</td>', reviews) == ["30", "2"]


def test_duplicates_count_once(client: FlaskClient, public_world: PublicWorld) -> None:
    a, b = public_world.atlantique.siret, public_world.anjou.siret
    html = compare(client, a, b, a, f"{b[:3]} {b[3:6]} {b[6:9]} {b[9:]}")
    assert COLUMN.findall(html) == [a, b]


def test_an_unknown_siret_is_named_and_the_others_compared(
        client: FlaskClient, public_world: PublicWorld) -> None:
    a, b = public_world.atlantique.siret, public_world.anjou.siret
    html = compare(client, a, "12345678901234", b)
    assert COLUMN.findall(html) == [a, b]
    assert "Aucun organisme n’a le SIRET 12345678901234." in html


def test_malformed_values_are_named_escaped(client: FlaskClient,
                                            public_world: PublicWorld) -> None:
    a, b = public_world.atlantique.siret, public_world.anjou.siret
    html = compare(client, a, "<b>x</b>", b)
    assert COLUMN.findall(html) == [a, b]
    assert "« &lt;b&gt;x&lt;/b&gt; » n’est pas un SIRET (14 chiffres)." in html


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_bodies_explains_how_to_build_one(
        client: FlaskClient, public_world: PublicWorld, count: int) -> None:
    sirets = [public_world.atlantique.siret][:count]
    html = compare(client, *sirets, status=400)
    assert "Choisissez au moins deux organismes" in html
    assert COLUMN.findall(html) == []
    # The way back to the search keeps what was picked.
    back = f"/?siret={sirets[0]}" if sirets else "/"
    assert f'<a class="button" href="{back}">Rechercher des organismes</a>' in html


def test_two_unknown_sirets_are_not_a_comparison(client: FlaskClient,
                                                 public_world: PublicWorld) -> None:
    html = compare(client, "12345678901234", "43210987654321", status=400)
    assert html.count("Aucun organisme n’a le SIRET") == 2


def test_more_than_four_keeps_the_first_four_and_says_so(
        client: FlaskClient, public_world: PublicWorld) -> None:
    from tests.public.fixtures import NANTES, add_body, add_offer, publish

    fifth = add_body("Cinquième Organisme")
    add_offer(fifth, "Peintre", NANTES, enrolled=1)
    publish()
    names = ("atlantique", "anjou", "mayenne", "bretagne")
    sirets = [getattr(public_world, n).siret for n in names]
    html = compare(client, *sirets, fifth.siret)
    assert COLUMN.findall(html) == sirets
    assert "4 organismes au plus" in html


def test_removing_a_body_and_adding_another(client: FlaskClient,
                                            public_world: PublicWorld) -> None:
    a, b, c = (public_world.atlantique.siret, public_world.anjou.siret,
               public_world.mayenne.siret)
    html = compare(client, a, b, c)
    assert f'href="/comparer?siret={a}&amp;siret={c}">Retirer' in html
    assert f'href="/?siret={a}&amp;siret={b}&amp;siret={c}">Ajouter un autre organisme' in html


def test_the_comparison_is_built_from_the_search(client: FlaskClient,
                                                 public_world: PublicWorld) -> None:
    """Search → add a result → search again → add another → compare: all in URLs."""
    a, m = public_world.atlantique.siret, public_world.mayenne.siret
    html = client.get("/?q=laval").get_data(as_text=True)
    add = f'href="/?q=laval&amp;page=1&amp;siret={a}">Ajouter à la comparaison'
    assert add in html
    html = client.get(f"/?q=laval&page=1&siret={a}").get_data(as_text=True)
    assert "Votre comparaison (1 sur 4)" in html
    assert "Dans votre comparaison" in html
    html = client.get(f"/?q=laval&page=1&siret={a}&siret={m}").get_data(as_text=True)
    assert f'href="/comparer?siret={a}&amp;siret={m}">Comparer ces 2 organismes' in html
    # From a result, the body page carries the selection to extend it.
    assert f'href="/organismes/{public_world.mayenne.siret}?comparer={a}&amp;comparer={m}"' \
        in html
    body = client.get(f"/organismes/{public_world.anjou.siret}?comparer={a}&comparer={m}")
    assert (f'href="/comparer?siret={a}&amp;siret={m}&amp;siret={public_world.anjou.siret}"'
            in body.get_data(as_text=True))
    # Without a selection, "add" starts one on the search page.
    alone = client.get(f"/organismes/{public_world.anjou.siret}").get_data(as_text=True)
    assert f'href="/?siret={public_world.anjou.siret}"' in alone


def test_the_comparison_in_english(client: FlaskClient, public_world: PublicWorld) -> None:
    html = client.get(f"/comparer?siret={public_world.atlantique.siret}"
                      f"&siret={public_world.anjou.siret}&lang=en").get_data(as_text=True)
    assert "2 training bodies side by side" in html
    assert "90% interval" in html
