"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
``AVIS_TEST_DATABASE_URL`` is set (CI sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from avis import create_app
from avis.db import db
from avis.migrations import upgrade
from avis.models import Base

POSTGRES_URL = os.environ.get("AVIS_TEST_DATABASE_URL")
#: Both, always: without a PostgreSQL URL its cases show as skipped, with the reason,
#: rather than vanish from the count.
BACKENDS = ["sqlite", "postgresql"]
NO_POSTGRES = ("PostgreSQL cases need AVIS_TEST_DATABASE_URL (e.g. "
               "postgresql+psycopg://postgres@127.0.0.1:5432/test; .ci/run sets it)")

pytest_plugins = [
    "tests.accounts.fixtures",
    "tests.catalog.fixtures",
    "tests.mail.fake_sendgrid",
    "tests.mail.smtp_server",
    "tests.surveys.fixtures",
    # After the fixtures it builds on: a module imported first cannot be rewritten.
    "tests.public.fixtures",
    "tests.admin.fixtures",
]


#: argon2id at its cheapest: the same code paths, milliseconds instead of a tenth of a
#: second per sign-in (tests about the configured cost set their own).
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}


def reset_database(url: str) -> None:
    """Drop every table, ours and Alembic's, so the suite starts from an empty database."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of each kind; migrations run once per kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'avis.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        url = POSTGRES_URL
    reset_database(url)
    upgrade(url)
    return url


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app(database_url: str, instance_path: Path) -> Iterator[Flask]:
    app = create_app(
        # Pages are not kept in memory: tests change the data between two requests.
        {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "IMPORT_CHUNK_SIZE": 50,
         "PAGE_CACHE_SECONDS": 0, **CHEAP_ARGON2},
        instance_path=instance_path,
    )
    app.testing = True
    yield app
    with app.app_context():
        db.session.rollback()
        # Imports commit chunk by chunk: clean up by deleting, not by rolling back.
        with db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- A CI run whose browser tests all skipped fails -------------------------------------

#: Set by .ci/run: the browser tests must run there (Chromium is installed first).
REQUIRE_BROWSER_TESTS = os.environ.get("AVIS_REQUIRE_BROWSER_TESTS") == "1"
_E2E = Path(__file__).parent / "e2e"
_browser_tests = {"collected": 0, "passed": 0}


def pytest_collection_finish(session: pytest.Session) -> None:
    _browser_tests["collected"] = sum(_E2E in item.path.parents for item in session.items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and report.nodeid.startswith("tests/e2e/"):
        _browser_tests["passed"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_BROWSER_TESTS and _browser_tests["collected"] and not _browser_tests["passed"]:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(
            f"FAILED: none of the {_browser_tests['collected']} browser tests ran "
            "(AVIS_REQUIRE_BROWSER_TESTS=1): is Chromium installed?", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
