"""Error pages: in the visitor's language, saying what to do next, nothing stored."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, abort
from flask.testing import FlaskClient

from avis import create_app
from avis.db import db
from avis.mail.models import Suppression
from avis.surveys.models.invitations import Invitation, InvitationStatus

Invited = Callable[..., tuple[Invitation, str]]

ELEVEN_MB = 11 * 1024 * 1024
AVIS = Path(__file__).resolve().parents[2] / "avis"
#: Reported to their owner: ``style=`` attributes, which the CSP blocks (no effect).
KNOWN_INLINE_STYLES: set[str] = set()


def status_of(invitation: Invitation) -> InvitationStatus:
    db.session.refresh(invitation)
    return invitation.status


def suppressions() -> list[Suppression]:
    return list(db.session.scalars(sa.select(Suppression)))


def test_csrf_failure_explains_and_links_back_to_the_form(client: FlaskClient,
                                                          invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")
    client.get(f"/unsubscribe/{token}")

    response = client.post(f"/unsubscribe/{token}", data={})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Le formulaire a expiré" in html
    assert "Rechargez la page" in html
    assert f'href="/unsubscribe/{token}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert status_of(invitation) == InvitationStatus.sent
    assert suppressions() == []


def test_csrf_failure_in_english(client: FlaskClient, invited: Invited) -> None:
    _invitation, token = invited()

    response = client.post(f"/unsubscribe/{token}", data={"csrf_token": "forged"},
                           headers={"Accept-Language": "en"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "This form has expired" in html


def padded_one_click(size: int) -> bytes:
    """An RFC 8058 one-click body, padded: it would unsubscribe if it were read."""
    body = b"List-Unsubscribe=One-Click&padding="
    return body + b"x" * (size - len(body))


def test_an_oversized_post_is_refused_and_nothing_is_stored(client: FlaskClient,
                                                            invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")

    response = client.post(f"/unsubscribe/{token}", data=padded_one_click(ELEVEN_MB),
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Votre message est trop long" in html
    assert "rien n’a été enregistré" in html
    assert status_of(invitation) == InvitationStatus.sent
    assert suppressions() == []


def test_an_oversized_body_without_length_is_cut_when_read(app: Flask, client: FlaskClient,
                                                           invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")
    wsgi_app = app.wsgi_app

    def chunked(environ: dict[str, Any], start_response: Any) -> Any:
        # As a chunked upload arrives: no Content-Length, the server marks the end.
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
        return wsgi_app(environ, start_response)

    app.wsgi_app = chunked  # type: ignore[method-assign]

    response = client.post(f"/unsubscribe/{token}", data=padded_one_click(ELEVEN_MB),
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "Votre message est trop long" in response.get_data(as_text=True)
    assert status_of(invitation) == InvitationStatus.sent
    assert suppressions() == []


def test_an_oversized_body_is_refused_before_any_lookup(client: FlaskClient,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")

    response = client.post("/unsubscribe/unknown-token", data=padded_one_click(ELEVEN_MB),
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "invitation_tokens" not in caplog.text


def test_an_oversized_questionnaire_is_refused(client: FlaskClient, invited: Invited) -> None:
    _invitation, token = invited()
    client.get(f"/q/{token}")

    response = client.post("/q/", data={"comment": "x" * ELEVEN_MB})

    assert response.status_code == 413
    assert "Votre message est trop long" in response.get_data(as_text=True)


def test_unknown_page_in_french_and_in_english(client: FlaskClient) -> None:
    french = client.get("/nulle-part")
    english = client.get("/nulle-part", headers={"Accept-Language": "en"})

    assert french.status_code == english.status_code == 404
    assert "Page introuvable" in french.get_data(as_text=True)
    assert "Page not found" in english.get_data(as_text=True)


def test_method_not_allowed_keeps_its_allow_header(client: FlaskClient) -> None:
    response = client.delete("/")

    assert response.status_code == 405
    assert "Méthode non autorisée" in response.get_data(as_text=True)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


@pytest.fixture
def failing_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An application with views that fail on purpose, and exceptions not propagated."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret"},
                     instance_path=tmp_path / "failing")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/gone")
    def gone() -> str:
        abort(410)

    @app.get("/broken")
    def broken() -> str:
        raise RuntimeError("a bug")

    @app.get("/busy")
    def busy() -> str:
        abort(429, retry_after=300)

    yield app
    with app.app_context():
        db.engine.dispose()


def test_gone(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/gone")

    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Cette page n’existe plus" in html
    assert "Ce qui se trouvait ici a été retiré." in html


def test_server_error_is_a_french_page_and_is_logged(failing_app: Flask,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    response = failing_app.test_client().get("/broken")

    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Une erreur est survenue" in html
    assert "Merci de réessayer plus tard." in html
    assert "a bug" not in html
    assert "RuntimeError: a bug" in caplog.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_too_many_requests_keeps_the_views_delay(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/busy")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "300"
    assert "Réessayez dans 5 minutes." in response.get_data(as_text=True)


def page_templates() -> Iterator[Path]:
    for path in AVIS.rglob("templates/**/*.html"):
        # Emails are not pages: mail clients need their inline styles.
        if "templates/mail/" not in path.as_posix():
            yield path


def test_pages_have_no_inline_script_or_style() -> None:
    offenders = set()
    for path in page_templates():
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", text, re.I):
            offenders.add(path.relative_to(AVIS).as_posix())

    assert any(path.name == "http_error.html" for path in page_templates())
    assert offenders <= KNOWN_INLINE_STYLES
