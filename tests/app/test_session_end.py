"""How a request's database transaction ends: what a view did not commit is never
written, whatever way the request ends; a request that only read keeps the statements
PostgreSQL prepared for its connection (psycopg forgets them at every rollback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, abort
from flask.testing import FlaskClient

from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db

SIRET = "73282932000074"


def _add_body() -> None:
    db.session.add(TrainingBody(siret=SIRET, siren=SIRET[:9], name="Jamais écrit"))
    db.session.flush()  # in the database's transaction, not committed


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """Views writing and reading, each request in its own application context."""

    @app.get("/test/flush-then-fail")
    def flush_then_fail() -> str:
        _add_body()
        raise RuntimeError("the view fails after its flush")

    @app.get("/test/flush-then-refuse")
    def flush_then_refuse() -> str:
        _add_body()
        abort(409)  # handled: the teardown sees no exception

    @app.get("/test/flush-and-return")
    def flush_and_return() -> str:
        _add_body()
        return "forgot to commit"

    @app.get("/test/core-insert-and-return")
    def core_insert_and_return() -> str:
        db.session.execute(sa.insert(TrainingBody).values(siret=SIRET, siren=SIRET[:9],
                                                          name="Jamais écrit"))
        return "forgot to commit"

    @app.get("/test/pending-and-return")
    def pending_and_return() -> str:
        db.session.scalar(sa.select(sa.func.count()).select_from(TrainingBody))
        db.session.add(TrainingBody(siret=SIRET, siren=SIRET[:9], name="Jamais écrit"))
        return "not even flushed"

    @app.get("/test/commit")
    def commit() -> str:
        _add_body()
        db.session.commit()
        return "written"

    @app.get("/test/caught-error")
    def caught_error() -> tuple[str, int]:
        _add_body()
        try:
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        except sa.exc.SQLAlchemyError:
            return "caught", 503  # as /healthz does
        return "unreachable", 200

    @app.get("/test/read")
    def read() -> str:
        db.session.scalar(sa.select(TrainingBody.id).where(TrainingBody.siret == SIRET))
        if db.engine.dialect.name != "postgresql":
            return "0"
        return str(db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements")))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app.test_client()


def _bodies(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(TrainingBody)) or 0


@pytest.mark.parametrize(("path", "status"), [
    ("/test/flush-then-fail", 500),
    ("/test/flush-then-refuse", 409),
    ("/test/flush-and-return", 200),
    ("/test/core-insert-and-return", 200),
    ("/test/pending-and-return", 200),
    ("/test/caught-error", 503),
])
def test_what_a_view_did_not_commit_is_never_written(app: Flask, client: FlaskClient,
                                                     path: str, status: int) -> None:
    assert client.get(path).status_code == status
    assert _bodies(app) == 0
    # The connection is clean for the next request, which commits what it means to.
    assert client.get("/test/commit").status_code == 200
    assert _bodies(app) == 1


def test_a_read_only_request_keeps_the_prepared_statements(app: Flask,
                                                            client: FlaskClient) -> None:
    counts = [int(client.get("/test/read").get_data(as_text=True)) for _ in range(8)]
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert counts == [0] * 8
        return
    # psycopg prepares a statement at its sixth execution on a connection (threshold 5);
    # requests are served one after the other, by the pool's one connection.
    assert counts[-1] >= 1, counts
    # A request that writes without committing is rolled back, and psycopg starts over.
    client.get("/test/flush-and-return")
    assert int(client.get("/test/read").get_data(as_text=True)) == 0
