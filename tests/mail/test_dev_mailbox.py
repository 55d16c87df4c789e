"""``/dev/mailbox`` shows what the file backend wrote, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from avis import create_app
from avis.mail.backends.file import FileBackend
from tests.mail.test_file_backend import batch, recipient
from tests.mail.test_render import HOSTILE_TITLE, SURVEY_LINK, make_values


def send(app: Flask, template: str, email: str, **values: str) -> str:
    """Write one email through the real backend; its file name."""
    with app.app_context():
        backend = FileBackend.from_config(app.config, app.instance_path)
        message = recipient(1, email, make_values(**values), template=template)
        [delivery] = backend.send(batch(message, template=template))
    assert delivery.provider_message_id
    return delivery.provider_message_id


def test_lists_messages_newest_first_in_french(app: Flask, client: FlaskClient) -> None:
    send(app, "invitation", "first@example.org")
    send(app, "follow_up", "second@example.org")

    response = client.get("/dev/mailbox")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Boîte aux lettres de développement" in page
    assert "MAIL_BACKEND = file" in page
    assert page.index("second@example.org") < page.index("first@example.org")
    assert "6 mois après votre formation" in page
    assert "Votre avis sur votre formation" in page


def test_lists_in_english_on_request(app: Flask, client: FlaskClient) -> None:
    send(app, "invitation", "first@example.org")

    page = client.get("/dev/mailbox?lang=en").get_data(as_text=True)

    assert "Development mailbox" in page
    assert "1 email, newest first." in page


def test_empty_mailbox(client: FlaskClient) -> None:
    response = client.get("/dev/mailbox")

    assert response.status_code == 200
    assert "Aucun message pour l’instant." in response.get_data(as_text=True)


def test_shows_headers_text_and_a_sandboxed_html_frame(app: Flask, client: FlaskClient) -> None:
    name = send(app, "invitation", "marie@example.org", course_title=HOSTILE_TITLE)

    response = client.get(f"/dev/mailbox/{name}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; Cie" not in page
    assert "Formation\u00a0: &lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in page
    assert "List-Unsubscribe-Post" in page
    assert "marie@example.org" in page
    assert f"{SURVEY_LINK}?note=5" in page
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame is not None
    assert 'sandbox="allow-popups allow-top-navigation-by-user-activation"' in frame.group()
    assert f'src="/dev/mailbox/{name}.html"' in frame.group()


def test_serves_the_html_part_with_clickable_links(app: Flask, client: FlaskClient) -> None:
    name = send(app, "reminder", "marie@example.org", course_title=HOSTILE_TITLE)

    response = client.get(f"/dev/mailbox/{name}.html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "sandbox allow-popups" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert html.lower().startswith("<!doctype html>")
    assert '<base target="_top">' in html
    assert 'target="_blank"' not in html
    assert f'href="{SURVEY_LINK}?note=3"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


@pytest.mark.parametrize("url", [
    "/dev/mailbox/..%2Fsecret.eml",
    "/dev/mailbox/%2E%2E%2Fsecret.eml",
    "/dev/mailbox/../secret.eml",
    "/dev/mailbox/..%2Fsecret.eml.html",
    "/dev/mailbox/unknown.eml",
    "/dev/mailbox/unknown.eml.html",
    "/dev/mailbox/notes.txt",
    "/dev/mailbox/link.eml",
    "/dev/mailbox/link.eml.html",
    "/dev/mailbox/folder.eml",
    "/dev/mailbox/.hidden.eml",
])
def test_refuses_anything_but_a_message_of_the_mailbox(
        app: Flask, client: FlaskClient, instance_path: Path, url: str) -> None:
    name = send(app, "invitation", "marie@example.org")
    mailbox = instance_path / "mailbox"
    secret = (mailbox / name).read_bytes()
    (instance_path / "secret.eml").write_bytes(secret)
    (mailbox / "notes.txt").write_bytes(secret)
    (mailbox / ".hidden.eml").write_bytes(secret)
    (mailbox / "link.eml").symlink_to(instance_path / "secret.eml")
    (mailbox / "folder.eml").mkdir()

    assert client.get(url).status_code == 404
    listing = client.get("/dev/mailbox").get_data(as_text=True)
    assert "1 message, du plus récent au plus ancien." in listing


def test_absent_without_the_file_backend(database_url: str, tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "MAIL_BACKEND": "smtp"}, instance_path=tmp_path)
    (tmp_path / "mailbox").mkdir()
    (tmp_path / "mailbox" / "20261126T101500.123456-1-00000000.eml").write_text("Subject: x\n\n")

    client = app.test_client()

    assert client.get("/dev/mailbox").status_code == 404
    assert client.get("/dev/mailbox/20261126T101500.123456-1-00000000.eml").status_code == 404
