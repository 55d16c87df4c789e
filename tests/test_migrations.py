"""Migrations build the schema the models describe, on every database, and come back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from avis.migrations import MIGRATIONS_DIR, alembic_config, for_dialect, upgrade
from avis.models import Base
from tests.conftest import reset_database


def test_models_and_migrations_agree(database_url):
    """Drift check: after ``upgrade head`` the database matches the models exactly."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_object": for_dialect(connection.dialect.name)})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrade_from_empty_then_downgrade_to_base(database_url):
    from alembic import command

    config = alembic_config(database_url)
    engine = sa.create_engine(database_url)
    try:
        command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        reset_database(database_url)
        upgrade(database_url)
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            head = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()
    assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert head == ScriptDirectory.from_config(config).get_current_head()


def test_migration_files_are_named_by_date_and_intent():
    names = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert names
    for name in names:
        date, time, _rev, *words = name.removesuffix(".py").split("_")
        assert len(date) == 8, name
        assert date.isdigit(), name
        assert len(time) == 4, name
        assert time.isdigit(), name
        assert words, name


def test_single_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
