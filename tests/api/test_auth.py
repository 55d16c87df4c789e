"""Signed partner calls (ANOTEA-HMAC-SHA256) and the API's rate limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from avis import create_app
from avis.api.auth import digest
from avis.db import db

KEYS = {"esd": "1234", "portail": "s3cr3t"}


@pytest.fixture
def api_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "API_KEYS": KEYS,
                      "API_RATE_LIMIT": "3 per minute",
                      "API_PARTNER_RATE_LIMIT": "5 per minute"}, instance_path=tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


def header(key: str, secret: str, path: str, *, method: str = "GET",
           shift_seconds: float = 0) -> dict[str, str]:
    timestamp = str(int((time.time() + shift_seconds) * 1000))
    return {"Authorization":
            f"ANOTEA-HMAC-SHA256 {key}:{timestamp}:{digest(secret, timestamp, method, path)}"}


def test_a_signed_call_is_recognised(api_app: Flask) -> None:
    client = api_app.test_client()
    path = "/api/v1/ping/authenticated"
    response = client.get(path, headers=header("esd", "1234", path))
    assert response.status_code == 200
    assert response.get_json() == {"user": "esd"}
    # The query is part of what is signed.
    path = "/api/v1/ping/authenticated?x=1"
    assert client.get(path, headers=header("portail", "s3cr3t", path)).get_json() == {
        "user": "portail"}


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: {}, "Le header Authorization est requis"),
    (lambda p: header("inconnu", "1234", p), "Clé d'API inconnue"),
    (lambda p: header("esd", "mauvais", p), "Signature invalide"),
    (lambda p: header("esd", "1234", "/api/v1/autre"), "Signature invalide"),
    (lambda p: header("esd", "1234", p, method="POST"), "Signature invalide"),
    (lambda p: header("esd", "1234", p, shift_seconds=-301), "expiré"),
    (lambda p: header("esd", "1234", p, shift_seconds=+301), "expiré"),
    (lambda p: {"Authorization": "ANOTEA-HMAC-SHA256 esd:abc:def"}, "expiré"),
])
def test_bad_signatures_are_401(api_app: Flask, make, message: str) -> None:
    path = "/api/v1/ping/authenticated"
    response = api_app.test_client().get(path, headers=make(path))
    assert response.status_code == 401
    body = response.get_json()
    assert body["statusCode"] == 401
    assert body["error"] == "Unauthorized"
    assert message in body["message"]


def test_a_wrong_signature_is_refused_even_on_a_public_route(api_app: Flask) -> None:
    path = "/api/v1/ping/anonymous"
    response = api_app.test_client().get(path, headers=header("esd", "faux", path))
    assert response.status_code == 401


def test_rate_limit_per_address_then_429_with_retry_after(api_app: Flask) -> None:
    client = api_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/ping/anonymous").status_code == 200
    refused = client.get("/api/v1/ping/anonymous")
    assert refused.status_code == 429
    assert refused.get_json()["statusCode"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Every API route shares the budget.
    assert client.get("/api/v1/avis").status_code == 429
    # Another address has its own.
    other = client.get("/api/v1/ping/anonymous", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    # A partner's signed calls count against its own, higher budget.
    path = "/api/v1/ping/authenticated"
    for _ in range(5):
        assert client.get(path, headers=header("esd", "1234", path)).status_code == 200
    assert client.get(path, headers=header("esd", "1234", path)).status_code == 429
