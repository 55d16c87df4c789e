"""The OpenAPI document describes what the API really answers: schemathesis generates
requests from it and checks every response (status documented, body matching its
schema, no server error)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from avis import create_app
from avis.db import db
from tests.public.fixtures import PublicWorld


@pytest.fixture
def api_schema(database_url: str, tmp_path: Path, public_world: PublicWorld
               ) -> Iterator[schemathesis.BaseSchema]:
    app: Flask = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                             "API_RATE_LIMIT": "100000 per minute"}, instance_path=tmp_path)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    with app.app_context():
        db.engine.dispose()


def test_every_response_matches_the_document(api_schema: schemathesis.BaseSchema) -> None:
    """Each operation, with generated parameters (schemathesis' pytest plugin does not
    run under this pytest: its strategies are driven by Hypothesis here)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate()

        check()


def test_the_document_is_openapi_3_1(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert "/avis" in document["paths"]
    assert "/organismes-formateurs/{siret}" in document["paths"]


def test_the_documentation_page_lists_every_operation(client) -> None:
    response = client.get("/api/v1/documentation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    document = client.get("/api/v1/openapi.json").get_json()
    for path in document["paths"]:
        assert f"<code>GET /api/v1{path}</code>" in html
    assert "<code>items_par_page</code>" in html
