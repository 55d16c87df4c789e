"""The public lookup in a phone's browser: search → a body → add to the comparison →
three bodies side by side, in French and in English; axe-core on each page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import assert_accessible

TEXTS = {
    "fr": {
        "search_label": "Organisme, formation, ville ou code postal",
        "search": "Rechercher",
        "add": "Ajouter à la comparaison",
        "selection": "Votre comparaison ({} sur 4)",
        "compare": "Comparer ces {} organismes",
        "found": re.compile(r"\d+ organismes? trouvés?"),
        "rating": "Note",
        "not_enough": "Pas encore assez d’avis",
        "side_by_side": "{} organismes côte à côte",
        "department": "Département",
    },
    "en": {
        "search_label": "Training body, course, town or postcode",
        "search": "Search",
        "add": "Add to comparison",
        "selection": "Your comparison ({} of 4)",
        "compare": "Compare these {} bodies",
        "found": re.compile(r"\d+ training bod(y|ies) found"),
        "rating": "Rating",
        "not_enough": "Not enough reviews yet",
        "side_by_side": "{} training bodies side by side",
        "department": "Département",
    },
}


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def search_for(page: Any, t: dict[str, Any], text: str) -> None:
    page.get_by_label(t["search_label"]).fill(text)
    page.get_by_role("button", name=t["search"], exact=True).click()
    expect(page.get_by_role("heading", name=t["found"])).to_be_visible()


def result(page: Any, name: str) -> Any:
    return page.locator("li.body").filter(
        has=page.get_by_role("link", name=name, exact=True))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_search_open_a_body_and_compare_three(new_page, database, lang: str) -> None:
    t = TEXTS[lang]
    page = new_page(locale="fr-FR" if lang == "fr" else "en-GB")
    bodies = database.bodies(scored=True)
    assert len(bodies) >= 3, "the demo should give at least three bodies a score"
    first, second, third = bodies[:3]

    page.goto("/")
    search_for(page, t, first["name"])
    no_horizontal_scroll(page)
    result(page, first["name"]).get_by_role("link", name=first["name"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first["name"])
    # The score, its drawn uncertainty and what it rests on.
    expect(page.locator("svg.scale")).to_be_visible()
    expect(page.locator("#score-text")).to_be_visible()
    expect(page.locator("svg.bars")).to_have_count(5)
    no_horizontal_scroll(page)

    page.get_by_role("link", name=t["add"], exact=True).click()
    expect(page.get_by_role("heading", name=t["selection"].format(1))).to_be_visible()
    for n, body in enumerate((second, third), start=2):
        search_for(page, t, body["name"])
        result(page, body["name"]).get_by_role(
            "link", name=re.compile("^" + re.escape(t["add"]))).click()
        expect(page.get_by_role("heading", name=t["selection"].format(n))).to_be_visible()
    no_horizontal_scroll(page)

    page.get_by_role("link", name=t["compare"].format(3)).click()
    expect(page).to_have_url(re.compile(r"/comparer\?siret="))
    expect(page.locator("table.compare caption")).to_have_text(t["side_by_side"].format(3))
    columns = page.locator("table.compare thead th a:not(.remove)")
    expect(columns).to_have_text([first["name"], second["name"], third["name"]])
    expect(page.locator("table.compare svg.scale")).to_have_count(3)
    no_horizontal_scroll(page)


def test_a_body_without_enough_reviews(page, database) -> None:
    quiet = database.bodies(scored=False)
    assert quiet, "the demo should leave some bodies below the threshold"
    page.goto(f"/organismes/{quiet[0]['siret']}")
    expect(page.get_by_text(TEXTS["fr"]["not_enough"]).first).to_be_visible()
    expect(page.locator("svg.scale")).to_have_count(0)
    assert_accessible(page, "a body without enough reviews")


def test_filters_narrow_the_search(page) -> None:
    t = TEXTS["fr"]
    page.goto("/")
    page.get_by_label(t["department"]).select_option("53")
    page.get_by_role("button", name=t["search"], exact=True).click()
    expect(page.get_by_role("heading", name=t["found"])).to_be_visible()
    for text in page.locator("li.body p.meta").all_inner_texts():
        assert "(53" in text, text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_public_pages_are_accessible(new_page, database, lang: str) -> None:
    t = TEXTS[lang]
    page = new_page(locale="fr-FR" if lang == "fr" else "en-GB")
    scored = database.bodies(scored=True)
    page.goto("/")
    assert_accessible(page, "the home page")
    search_for(page, t, scored[0]["name"].split()[0])
    assert_accessible(page, "search results")
    page.goto("/?q=" + "x" * 300)
    assert_accessible(page, "a refused search")
    page.goto(f"/?siret={scored[0]['siret']}&q={scored[1]['name'].split()[0]}")
    assert_accessible(page, "search results with a comparison being built")
    page.goto(f"/organismes/{scored[0]['siret']}")
    assert_accessible(page, "a body's page")
    page.locator("ul.offers a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "a course page")
    no_horizontal_scroll(page)
    page.goto("/comparer?" + "&".join(f"siret={b['siret']}" for b in scored[:4]))
    assert_accessible(page, "the comparison of four bodies")
    page.goto("/comparer?siret=12345678901234")
    assert_accessible(page, "a comparison that cannot be made")
