"""copy the session's région and département onto answers (kept by triggers), indexes of
the moderation queue per région, département and decision, trigram search of comments

Revision ID: 5e7a9c1d3f45
Revises: fdbbbbce4557
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e7a9c1d3f45'
down_revision: str | None = 'fdbbbbce4557'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "comment_status = 'pending'"
DECIDED = "comment_status <> 'pending'"

# A session's place is the truth; the answers' copies follow it whoever writes: the app,
# an import, a bulk load, a fixture. PostgreSQL fills the row before it is written.
POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION answers_copy_place() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT s.region_code, s.departement INTO NEW.region_code, NEW.departement
        FROM sessions s WHERE s.id = NEW.session_id;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER answers_copy_place BEFORE INSERT OR UPDATE OF session_id ON answers
    FOR EACH ROW EXECUTE FUNCTION answers_copy_place()
    """,
    """
    CREATE OR REPLACE FUNCTION sessions_move_answers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE answers SET region_code = NEW.region_code, departement = NEW.departement
        WHERE session_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER sessions_move_answers AFTER UPDATE OF region_code, departement
    ON sessions FOR EACH ROW
    WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code
          OR OLD.departement IS DISTINCT FROM NEW.departement)
    EXECUTE FUNCTION sessions_move_answers()
    """,
]

# SQLite cannot change the row being inserted: it updates it just after.
_COPY = """
    UPDATE answers SET
        region_code = (SELECT region_code FROM sessions WHERE id = NEW.session_id),
        departement = (SELECT departement FROM sessions WHERE id = NEW.session_id)
    WHERE id = NEW.id;
"""
SQLITE = [
    f"CREATE TRIGGER answers_copy_place AFTER INSERT ON answers BEGIN {_COPY} END",
    f"CREATE TRIGGER answers_copy_place_moved AFTER UPDATE OF session_id ON answers "
    f"BEGIN {_COPY} END",
    """
    CREATE TRIGGER sessions_move_answers AFTER UPDATE OF region_code, departement
    ON sessions FOR EACH ROW
    WHEN OLD.region_code IS NOT NEW.region_code OR OLD.departement IS NOT NEW.departement
    BEGIN
        UPDATE answers SET region_code = NEW.region_code, departement = NEW.departement
        WHERE session_id = NEW.id;
    END
    """,
]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("region_code", sa.String(2), nullable=True))
        batch.add_column(sa.Column("departement", sa.String(3), nullable=True))
    op.execute("""
        UPDATE answers SET
            region_code = (SELECT region_code FROM sessions WHERE sessions.id = answers.session_id),
            departement = (SELECT departement FROM sessions WHERE sessions.id = answers.session_id)
    """)
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)
    for place in ("region_code", "departement"):
        op.create_index(f"ix_answers_pending_by_{place}", "answers",
                        [place, "answered_on", "id"],
                        postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    op.create_index("ix_answers_decided_comments", "answers", ["moderated_dt", "id"],
                    postgresql_where=sa.text(DECIDED), sqlite_where=sa.text(DECIDED))
    for place in ("region_code", "departement"):
        op.create_index(f"ix_answers_decided_by_{place}", "answers",
                        [place, "moderated_dt", "id"],
                        postgresql_where=sa.text(DECIDED), sqlite_where=sa.text(DECIDED))
    if postgresql:
        # A trusted extension (PostgreSQL 13+): the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_answers_comment_words", "answers",
                        ["comment_title", "comment_text"], postgresql_using="gin",
                        postgresql_ops={"comment_title": "gin_trgm_ops",
                                        "comment_text": "gin_trgm_ops"},
                        postgresql_where=sa.text("comment_status IS NOT NULL"))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_index("ix_answers_comment_words", table_name="answers")
    for name in ("ix_answers_decided_by_departement", "ix_answers_decided_by_region_code",
                 "ix_answers_decided_comments",
                 "ix_answers_pending_by_departement", "ix_answers_pending_by_region_code"):
        op.drop_index(name, table_name="answers")
    if postgresql:
        op.execute("DROP TRIGGER sessions_move_answers ON sessions")
        op.execute("DROP FUNCTION IF EXISTS sessions_move_answers()")
        op.execute("DROP TRIGGER answers_copy_place ON answers")
        op.execute("DROP FUNCTION IF EXISTS answers_copy_place()")
    else:
        for name in ("sessions_move_answers", "answers_copy_place_moved",
                     "answers_copy_place"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("departement")
        batch.drop_column("region_code")
