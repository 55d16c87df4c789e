"""The widget on a partner's page: another site (another port of 127.0.0.1) embeds
``/widget.js``; the score and the comment list render in their iframes, resized to
their content, accessible; the optional JSON-LD lands in the partner's page."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LOCAL_HOST
from tests.e2e.test_accessibility import FAILING_IMPACTS, axe_source, describe

PARTNER_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Portail partenaire</title></head>
<body>
  <h1>Formations près de chez vous</h1>
  <div class="avis-widget" data-type="organisme" data-format="score"
       data-identifiant="{siret}" data-jsonld="true"></div>
  <div class="avis-widget" data-type="organisme" data-format="liste"
       data-identifiant="{siret}"></div>
  <script src="{avis}/widget.js"></script>
</body></html>
"""


@pytest.fixture
def partner_site(live_server: Any, database: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    body = database.bodies(scored=True)[0]
    page = PARTNER_PAGE.format(siret=body["siret"], avis=live_server.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/", body
    finally:
        server.shutdown()
        server.server_close()


def frame_violations(frame: Any) -> list[dict[str, Any]]:
    frame.evaluate(axe_source())
    results = frame.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]


def test_the_widget_on_a_partner_page(page: Any, partner_site: tuple[str, dict]) -> None:
    url, body = partner_site
    page.goto(url)
    frames = page.locator("div.avis-widget iframe")
    expect(frames).to_have_count(2)
    score = page.frame_locator("div.avis-widget[data-format=score] iframe")
    expect(score.get_by_role("heading", level=1)).to_have_text(body["name"])
    expect(score.locator(".big")).to_have_text(re.compile(r"^\d,\d$"))
    listing = page.frame_locator("div.avis-widget[data-format=liste] iframe")
    expect(listing.locator("ul.comments li").first).to_be_visible()
    # The list's frame grew to its content (the script starts at 120 px).
    listing_frame = page.locator("div.avis-widget[data-format=liste] iframe")
    expect(listing_frame).not_to_have_css("height", "120px")
    height = listing_frame.evaluate("f => f.getBoundingClientRect().height")
    inner = listing_frame.element_handle().content_frame().evaluate(
        "() => document.documentElement.scrollHeight")
    assert abs(height - inner) <= 2
    # The link to the full page opens avis.
    more = listing.get_by_role("link", name=re.compile("^Voir tous les avis sur avis"))
    expect(more).to_have_attribute("href", re.compile(
        rf"/organismes/{body['siret']}$"))
    # JSON-LD for search engines, in the partner's page.
    data = page.locator("head script[type='application/ld+json']")
    expect(data).to_have_count(1)
    assert '"@type": "Organization"' in data.text_content() or \
        '"@type":"Organization"' in data.text_content()
    # Accessible inside each frame.
    for element in frames.all():
        found = frame_violations(element.element_handle().content_frame())
        assert not found, describe(found)
