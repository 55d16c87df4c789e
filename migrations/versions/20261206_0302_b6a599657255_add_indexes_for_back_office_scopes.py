"""add indexes for the back office: a région's sessions with their actions (the scope of
region staff and moderators), and the comments awaiting moderation

Revision ID: b6a599657255
Revises: 07bc2816ee21
Create Date: 2026-12-06 03:02:45.464975
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b6a599657255'
down_revision: str | None = '07bc2816ee21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_pending_comments', ['answered_on'], unique=False,
                              postgresql_where=sa.text("comment_status = 'pending'"),
                              sqlite_where=sa.text("comment_status = 'pending'"))

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_region_code_action_id', ['region_code', 'action_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_region_code_action_id')

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_pending_comments')
