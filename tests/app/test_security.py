"""Headers on every response, cookies, body sizes and rate limits (``avis.security``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from avis import create_app
from avis.config import ConfigError, load_settings
from avis.db import db
from avis.security import accepts_body, frameable
from avis.surveys.models.invitations import Invitation
from tests.mail.test_dev_mailbox import send

Invited = Callable[..., tuple[Invitation, str]]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
BAD_TOKEN = "x" * 43


def assert_protected(response: TestResponse) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    # Only behind HTTPS (see test_https_adds_hsts_and_secure_cookies).
    assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/healthz", 200), ("/nulle-part", 404), ("/static/avis.css", 200),
    (f"/q/{BAD_TOKEN}", 404),
])
def test_every_response_is_protected(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    response.close()  # a static file is streamed from disk

    assert response.status_code == status
    assert_protected(response)


def test_survey_link_and_unsubscribe_pages_are_protected(client: FlaskClient,
                                                        invited: Invited) -> None:
    _invitation, token = invited()

    link = client.get(f"/q/{token}")
    questionnaire = client.get("/q/")
    unsubscribe = client.get(f"/unsubscribe/{token}")

    assert link.status_code == 303
    assert questionnaire.status_code == 200
    assert unsubscribe.status_code == 200
    for response in (link, questionnaire, unsubscribe):
        assert_protected(response)
        # The blueprint's own header is still there.
        assert response.headers["Cache-Control"] == "no-store"


def test_a_views_own_policy_wins(app: Flask, client: FlaskClient) -> None:
    name = send(app, "invitation", "marie@example.org")

    page = client.get(f"/dev/mailbox/{name}")
    framed = client.get(f"/dev/mailbox/{name}.html")

    assert_protected(page)
    policy = framed.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "sandbox allow-popups" in policy
    # The mailbox page frames it: no X-Frame-Options: DENY there.
    assert "X-Frame-Options" not in framed.headers
    assert framed.headers["Referrer-Policy"] == "no-referrer"
    assert framed.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def build_app(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Flask]]:
    """``build_app(**settings)``: another application on the test database."""
    built: list[Flask] = []

    def build(**settings: object) -> Flask:
        instance = tmp_path / f"instance-{len(built)}"
        instance.mkdir()
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                          **settings}, instance_path=instance)
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.engine.dispose()


def test_a_frameable_view_may_be_framed_by_any_site(build_app: Callable[..., Flask]) -> None:
    app = build_app()

    @app.get("/widget/test")
    @frameable
    def widget() -> str:
        return "widget"

    response = app.test_client().get("/widget/test")

    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "frame-ancestors 'none'" not in policy
    assert "default-src 'self'" in policy
    assert "X-Frame-Options" not in response.headers
    # The other pages are still not frameable.
    assert_protected(app.test_client().get("/"))


def session_cookie(response: TestResponse) -> str:
    [cookie] = [value for value in response.headers.getlist("Set-Cookie")
                if value.startswith("session=")]
    return cookie


def test_http_sends_no_hsts_and_plain_cookies(client: FlaskClient) -> None:
    # ``?lang=`` is remembered in the session: the answer sets the cookie.
    response = client.get("/?lang=en")

    assert "Strict-Transport-Security" not in response.headers
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_https_adds_hsts_and_secure_cookies(build_app: Callable[..., Flask]) -> None:
    app = build_app(BASE_URL="https://avis.example")

    response = app.test_client().get("/?lang=en", base_url="https://avis.example")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = session_cookie(response)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_forms_stay_valid_for_six_hours(app: Flask) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 6 * 60 * 60


def test_webhook_accepts_a_large_batch(client: FlaskClient) -> None:
    # Unsigned, so refused: but read, not cut at the general 256 KB limit.
    response = client.post("/webhooks/sendgrid", data=b"[" + b" " * 1024 * 1024 + b"]",
                           content_type="application/json")

    assert response.status_code == 403


def test_webhook_refuses_a_body_beyond_its_own_limit(client: FlaskClient) -> None:
    response = client.post("/webhooks/sendgrid", data=b" " * (6 * 1024 * 1024),
                           content_type="application/json")

    assert response.status_code == 413


def test_accepts_body_raises_the_limit_of_one_view(build_app: Callable[..., Flask]) -> None:
    app = build_app()

    @app.post("/upload")
    @accepts_body(1024 * 1024)
    def upload() -> str:
        return str(len(request.get_data()))

    @app.post("/small")
    def small() -> str:
        return str(len(request.get_data()))

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()

    assert client.post("/upload", data=b"x" * 900_000).get_data(as_text=True) == "900000"
    assert client.post("/upload", data=b"x" * 1_100_000).status_code == 413
    assert client.post("/small", data=b"x" * 300_000).status_code == 413


# Rate limits on the URLs that hold a token.


def test_the_31st_token_lookup_in_a_minute_is_refused(client: FlaskClient) -> None:
    for n in range(30):
        assert client.get(f"/q/{BAD_TOKEN}{n}").status_code == 404

    response = client.get(f"/q/{BAD_TOKEN}")

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Trop de tentatives" in html
    assert "Réessayez dans une minute." in html
    assert_protected(response)
    # The same budget covers the unsubscribe page, whatever the method.
    assert client.get(f"/unsubscribe/{BAD_TOKEN}").status_code == 429
    assert client.post(f"/unsubscribe/{BAD_TOKEN}",
                       data={"List-Unsubscribe": "One-Click"}).status_code == 429
    # The questionnaire itself (the page shown and posted) is not limited.
    assert client.get("/q/").status_code == 404
    # Another address is not affected.
    other = client.get(f"/q/{BAD_TOKEN}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 404


def test_the_limit_is_a_setting(build_app: Callable[..., Flask], invited: Invited) -> None:
    app = build_app(SURVEY_RATE_LIMIT="2 per hour")
    client = app.test_client()
    _invitation, token = invited()

    assert client.get(f"/unsubscribe/{token}").status_code == 200
    assert client.get(f"/q/{token}").status_code == 303
    response = client.get(f"/q/{token}")

    assert response.status_code == 429
    assert 60 < int(response.headers["Retry-After"]) <= 3600
    assert "Réessayez dans" in response.get_data(as_text=True)


def test_each_application_counts_on_its_own(build_app: Callable[..., Flask]) -> None:
    exhausted = build_app(SURVEY_RATE_LIMIT="1 per minute")
    fresh = build_app(SURVEY_RATE_LIMIT="1 per minute")
    exhausted.test_client().get(f"/q/{BAD_TOKEN}")
    assert exhausted.test_client().get(f"/q/{BAD_TOKEN}").status_code == 429

    assert fresh.test_client().get(f"/q/{BAD_TOKEN}").status_code == 404


def test_default_rate_limit(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={})["SURVEY_RATE_LIMIT"] == "30 per minute"
    assert load_settings(tmp_path, environ={"AVIS_SURVEY_RATE_LIMIT": " 5/second;100/hour "})[
        "SURVEY_RATE_LIMIT"] == "5/second;100/hour"


@pytest.mark.parametrize("value", ["lots", "30 per fortnight", "0 per minute", ""])
def test_a_bad_rate_limit_stops_the_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          value: str) -> None:
    monkeypatch.setenv("AVIS_SURVEY_RATE_LIMIT", value)

    with pytest.raises(ConfigError, match="AVIS_SURVEY_RATE_LIMIT"):
        create_app({"SECRET_KEY": "x"}, instance_path=tmp_path)


def test_an_unusable_rate_limit_storage_stops_the_start(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("AVIS_RATELIMIT_STORAGE_URL", "memcache:/typo")

    with pytest.raises(ConfigError, match="AVIS_RATELIMIT_STORAGE_URL"):
        create_app({"SECRET_KEY": "x"}, instance_path=tmp_path)
