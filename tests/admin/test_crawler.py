"""A crawler signed in as one account: it follows every back-office link and submits
every GET form it finds; nothing of the bodies outside the account's scope appears,
and no trainee's email or token ever does."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from avis.db import db
from avis.spreadsheets import XLSX_TYPE
from avis.surveys.models.invitations import InvitationToken
from tests.accounts.fixtures import Browser
from tests.admin.fixtures import VISIBLE, ScopedWorld

#: Pages a crawl may visit: enough for every list page and its pages, bounded.
MAX_PAGES = 1200


class _Links(HTMLParser):
    """Links and GET forms (with their fields' current values) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self._form = (a.get("action", ""), [])
        elif self._form is not None and tag == "input" and a.get("name") \
                and a.get("type") not in ("submit", "checkbox", "radio"):
            self._form[1].append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "select":
            self._select = a.get("name")
        elif self._select and tag == "option" and a.get("value"):
            # Every option of a filter is tried: one submission each.
            self._form[1].append((self._select, a["value"]))  # type: ignore[index]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def _form_urls(page: str, action: str, fields: list[tuple[str, str]]) -> list[str]:
    """The URLs of a GET form: its fields as they are, then each select option alone."""
    target = urlsplit(urljoin(page, action or page)).path
    plain = [(k, v) for k, v in fields if k not in _selects(fields)]
    urls = [f"{target}?{urlencode(plain)}"]
    for name in _selects(fields):
        urls += [f"{target}?{urlencode([*plain, (name, value)])}"
                 for key, value in fields if key == name]
    return urls


def _selects(fields: list[tuple[str, str]]) -> set[str]:
    names = [name for name, _ in fields]
    return {name for name in names if names.count(name) > 1}


def _text(response: TestResponse) -> str:
    """A page's HTML, or a download's text: for a workbook, its XML parts (where an email
    in one of its cells would be)."""
    if response.mimetype == XLSX_TYPE:
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
            return "\n".join(archive.read(name).decode() for name in archive.namelist())
    return response.get_data(as_text=True)


def crawl(client: Browser, start: str = "/admin/", within: str = "/admin") -> dict[str, str]:
    """Every back-office page reachable from ``start`` (the home page) whose path starts
    with ``within``: path → HTML (or a download's text)."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        path = parts.path + (f"?{urlencode(parse_qsl(parts.query))}" if parts.query else "")
        if path in seen or not parts.path.startswith(within) or parts.netloc:
            continue
        response = client.get(path)
        assert response.status_code in (200, 302, 303, 400), (path, response.status_code)
        html = _text(response)
        seen[path] = html
        if response.status_code in (302, 303):
            queue.append(response.headers["Location"])
            continue
        parser = _Links()
        parser.feed(html)
        queue += [urljoin(path, link) for link in parser.links]
        for action, fields in parser.forms:
            queue += _form_urls(path, action, fields)
    assert len(seen) < MAX_PAGES, f"the crawl did not end: a link loop? {sorted(seen)[-20:]}"
    return seen


@pytest.mark.parametrize("key", ["body_lumiere", "body_network", "region_52_ft",
                                 "moderator_52", "region_53"])
def test_nothing_outside_the_scope_reaches_the_pages(app: Flask, scoped_world: ScopedWorld,
                                                     browser: Callable[[], Browser],
                                                     key: str) -> None:
    _id, email, secret = scoped_world.accounts[key]
    client = browser()
    client.sign_in(email, totp_secret=secret)

    pages = crawl(client)

    visible = VISIBLE[key]
    foreign = [facts for name, facts in scoped_world.bodies.items() if name not in visible]
    own = [facts for name, facts in scoped_world.bodies.items() if name in visible]
    with app.app_context():
        token_hashes = db.session.scalars(sa.select(InvitationToken.digest)).all()
    assert token_hashes
    leaks = []
    for path, html in pages.items():
        for facts in foreign:
            for secret_text in (facts.name, facts.siret, *facts.words):
                if secret_text in html or escape(secret_text) in html:
                    leaks.append(f"{path}: {secret_text!r}")
        for facts in scoped_world.bodies.values():
            for trainee in facts.trainees:
                if trainee in html:
                    leaks.append(f"{path}: trainee {trainee}")
        if re.search(r"/(?:q|unsubscribe)/[A-Za-z0-9_-]{20,}", html):
            leaks.append(f"{path}: a survey link")
        for digest in token_hashes:
            if digest.hex() in html:
                leaks.append(f"{path}: a token hash")
    assert leaks == []
    # The crawl did reach the account's own bodies, their pages and their comments.
    everything = "\n".join(pages.values())
    for facts in own:
        assert facts.name in everything
        assert f"/admin/organismes/{facts.siret}" in pages
    # Published comments of its bodies are there; pending ones are not shown one by one.
    lumiere = scoped_world.bodies.get("lumiere")
    if lumiere in own:
        assert "Avis unique lumiere numéro 0 sur la formation" in everything
        assert "Réponse-lumiere de notre organisme" in everything
        if not key.startswith("moderator"):
            # A pending comment is for moderators' eyes only.
            assert "Avis unique lumiere numéro 5" not in everything
