"""send due emails faster

Revision ID: e03c4d5e6f7a
Revises: df2b3c4d5e6f
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e03c4d5e6f7a'
down_revision: str | None = 'df2b3c4d5e6f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "status IN ('queued', 'sending', 'unknown')"

# Plain index operations, no batch mode: on SQLite a batch may copy the table, and the
# answers table has triggers a copy would lose.


def upgrade() -> None:
    # The claim's order, over the messages a sender may claim only.
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['id'], unique=False,
                    postgresql_where=sa.text(DUE), sqlite_where=sa.text(DUE))
    op.drop_index('ix_outbox_messages_status_next_attempt_dt', table_name='outbox_messages')
    # Every answer wrote them; the comment indexes begin with the same columns.
    op.drop_index('ix_answers_course_id', table_name='answers')
    op.drop_index('ix_answers_training_body_id', table_name='answers')


def downgrade() -> None:
    op.create_index('ix_answers_training_body_id', 'answers', ['training_body_id'], unique=False)
    op.create_index('ix_answers_course_id', 'answers', ['course_id'], unique=False)
    op.create_index('ix_outbox_messages_status_next_attempt_dt', 'outbox_messages',
                    ['status', 'next_attempt_dt'], unique=False)
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
