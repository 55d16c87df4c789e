"""refresh scores faster

Revision ID: f14d5e6f7a8b
Revises: e03c4d5e6f7a
Create Date: 2026-12-06 20:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'f14d5e6f7a8b'
down_revision: str | None = 'e03c4d5e6f7a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The scores' count of delivered invitations also reads the day answered (the
    # rolling window): with it in the index, the refresh reads no invitation row.
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_scores_delivered',
                              ['enrolment_id', 'kind', 'status', 'first_sent_dt',
                               'answered_dt'], unique=False)
        batch_op.drop_index('ix_invitations_enrolment_id_kind_status_first_sent_dt')


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_enrolment_id_kind_status_first_sent_dt',
                              ['enrolment_id', 'kind', 'status', 'first_sent_dt'],
                              unique=False)
        batch_op.drop_index('ix_invitations_scores_delivered')
