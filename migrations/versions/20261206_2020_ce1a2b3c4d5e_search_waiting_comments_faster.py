"""search waiting comments faster: lowered copies of the comment's title and text,
computed by the database, and (PostgreSQL) an index of the waiting comments holding them

Revision ID: ce1a2b3c4d5e
Revises: bd3f5b7c9ea1
Create Date: 2026-12-06 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ce1a2b3c4d5e'
down_revision: str | None = 'bd3f5b7c9ea1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the model says (``Answer.comment_title_lower``, ``comment_text_lower``,
# ``LOWERED_TEXT_MAX``), frozen here.
TITLE = "lower(comment_title)"
TEXT = "CASE WHEN length(comment_text) <= 500 THEN lower(comment_text) END"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Both columns in one statement: a stored column rewrites the table, once.
        op.execute(f"ALTER TABLE answers "
                   f"ADD COLUMN comment_title_lower TEXT GENERATED ALWAYS AS ({TITLE}) STORED, "
                   f"ADD COLUMN comment_text_lower TEXT GENERATED ALWAYS AS ({TEXT}) STORED")
        op.create_index("ix_answers_pending_words", "answers", ["answered_on", "id"],
                        postgresql_include=["comment_title_lower", "comment_text_lower"],
                        postgresql_where=sa.text("comment_status = 'pending'"))
        return
    # SQLite adds no STORED column to an existing table; a VIRTUAL one is computed when
    # read, by the same lower() SQLite's ILIKE emulation calls today (there is no
    # covering index there to fill). Recreating the table (batch mode) to store them
    # would drop and have to redo its triggers, for no gain on SQLite.
    op.add_column("answers", sa.Column("comment_title_lower", sa.Text(),
                                       sa.Computed(TITLE), nullable=True))
    op.add_column("answers", sa.Column("comment_text_lower", sa.Text(),
                                       sa.Computed(TEXT), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_answers_pending_words", table_name="answers")
        op.execute("ALTER TABLE answers DROP COLUMN comment_text_lower, "
                   "DROP COLUMN comment_title_lower")
        return
    op.drop_column("answers", "comment_text_lower")
    op.drop_column("answers", "comment_title_lower")
