"""list a body's reviews faster

Revision ID: df2b3c4d5e6f
Revises: ce1a2b3c4d5e
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'df2b3c4d5e6f'
down_revision: str | None = 'ce1a2b3c4d5e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A body's reviews (API v1) in list order, with the session (the count per session)
    # and the mark (the lowest and highest of the body's score) read off the index.
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_body_reviews',
                              ['training_body_id', 'answered_on', 'id', 'session_id',
                               'overall'],
                              unique=False,
                              postgresql_where=sa.text('excluded_reason IS NULL'),
                              sqlite_where=sa.text('excluded_reason IS NULL'))
        # A body page's comments in the page's whole order (day, then id).
        batch_op.drop_index('ix_answers_body_comments')
        batch_op.create_index('ix_answers_body_comments',
                              ['training_body_id', 'comment_status', 'answered_on', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_body_comments')
        batch_op.create_index('ix_answers_body_comments',
                              ['training_body_id', 'comment_status', 'answered_on'],
                              unique=False)
        batch_op.drop_index('ix_answers_body_reviews',
                            postgresql_where=sa.text('excluded_reason IS NULL'),
                            sqlite_where=sa.text('excluded_reason IS NULL'))
