"""The back office's shared pages: each role's home, the bodies list and a body's page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.accounts.fixtures import Browser
from tests.admin.fixtures import ScopedWorld


def sign_in(browser: Callable[[], Browser], world: ScopedWorld, key: str) -> Browser:
    _id, email, secret = world.accounts[key]
    client = browser()
    assert client.sign_in(email, totp_secret=secret).status_code == 303
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_region_home_counts_its_bodies_and_answers(app: Flask, scoped_world: ScopedWorld,
                                                    browser: Callable[[], Browser]) -> None:
    # Three bodies of région 52, six answers each (from the hourly scores, or live for an
    # account limited to some funders).
    home = text(sign_in(browser, scoped_world, "region_52").get("/admin/"))
    limited = text(sign_in(browser, scoped_world, "region_52_ft").get("/admin/"))

    assert "<span class=\"big\">3</span> organismes de formation" in home
    assert "<span class=\"big\">18</span> réponses d’anciens stagiaires" in home
    assert "<span class=\"big\">1</span> organisme de formation" in limited
    assert "<span class=\"big\">6</span> réponses d’anciens stagiaires" in limited


def test_moderator_home_counts_what_awaits_in_its_scope(app: Flask, scoped_world: ScopedWorld,
                                                        browser: Callable[[], Browser]) -> None:
    regional = text(sign_in(browser, scoped_world, "moderator_52").get("/admin/"))
    national = text(sign_in(browser, scoped_world, "moderator_all").get("/admin/"))

    # One pending comment per body: three in région 52, five in all.
    assert "<span class=\"big\">3</span> commentaires attendent la modération" in regional
    assert "<span class=\"big\">5</span> commentaires attendent la modération" in national


def test_the_bodies_list_searches_and_pages(app: Flask, scoped_world: ScopedWorld,
                                            browser: Callable[[], Browser]) -> None:
    client = sign_in(browser, scoped_world, "region_52")
    zephyr = scoped_world.bodies["zephyr"]

    everyone = text(client.get("/admin/organismes"))
    by_name = text(client.get("/admin/organismes?q=zéphyr"))
    by_siret = text(client.get(f"/admin/organismes?q={zephyr.siret[:9]}"))
    percent = text(client.get("/admin/organismes?q=%25"))
    beyond = text(client.get("/admin/organismes?page=5"))

    assert "3 organismes de formation" in everyone
    for name in ("lumiere", "zephyr", "net_nantes"):
        assert scoped_world.bodies[name].name in everyone
    assert "1 organisme de formation" in by_name
    assert zephyr.name in by_name
    assert "1 organisme de formation" in by_siret
    assert zephyr.name in by_siret
    assert "0 organisme de formation" in percent  # % is a character, not a wildcard
    assert "3 organismes de formation" in beyond
    assert "Aucun organisme de formation" in beyond
    assert client.get("/admin/organismes?page=0").status_code == 400


def test_a_body_page_shows_its_published_comments_and_figures(
        app: Flask, scoped_world: ScopedWorld, browser: Callable[[], Browser]) -> None:
    lumiere = scoped_world.bodies["lumiere"]
    page = text(sign_in(browser, scoped_world, "body_lumiere")
                .get(f"/admin/organismes/{lumiere.siret}"))

    assert lumiere.name in page
    assert lumiere.siret in page
    assert "<span class=\"big\">6</span> réponses" in page
    assert "<span class=\"big\">5</span> commentaires publiés" in page
    assert "<span class=\"big\">1</span> commentaire en attente de modération" in page
    for i in range(5):
        assert f"Titre-lumiere-{i}" in page
        assert f"Avis unique lumiere numéro {i} sur la formation" in page
    assert "Réponse-lumiere de notre organisme" in page
    # The pending one is counted, not shown.
    assert "Titre-lumiere-5" not in page
    assert "lumiere numéro 5" not in page
    # A body does not edit its own contact address (moderators and admins do).
    assert "Adresse de contact" not in page
