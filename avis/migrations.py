"""``avis db …``: Alembic migrations, run only from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import with_appcontext

#: The top-level ``migrations/`` folder of the project.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    config.set_main_option("truncate_slug_length", "40")
    # Alembic's config is an INI parser: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def for_dialect(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """Alembic's ``include_object`` for ``dialect``: the models' objects made for
    another database only (``Index(...).ddl_if(dialect=...)``, e.g. PostgreSQL's trigram
    search) are not expected there."""

    def include(obj: object, name: str | None, type_: str, reflected: bool,
                compare_to: object) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return reflected or condition is None or condition.dialect in (None, dialect)

    return include


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def _config() -> Config:
    return alembic_config(current_app.config["DATABASE_URL"])


@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    command.upgrade(_config(), revision)


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION ("base" for an empty database)."""
    command.downgrade(_config(), revision)


@db_group.command("current")
@with_appcontext
def current_command() -> None:
    """Show the revision the database is at."""
    command.current(_config(), verbose=False)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="what the migration does, e.g. 'add answers'")
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def revision_command(message: str, autogenerate: bool) -> None:
    """Write a new migration file (developers)."""
    command.revision(_config(), message=message, autogenerate=autogenerate)
