"""track reviews read by training bodies

Revision ID: 6e8a0c2d4f56
Revises: 4d6f8b0c2e34
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '6e8a0c2d4f56'
down_revision: str | None = '4d6f8b0c2e34'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'review_reads',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('read_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_review_reads_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['answer_id'], ['answers.id'],
                                name=op.f('fk_review_reads_answer_id_answers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'answer_id', name=op.f('pk_review_reads')),
    )
    with op.batch_alter_table('review_reads') as batch_op:
        batch_op.create_index(batch_op.f('ix_review_reads_answer_id'), ['answer_id'])
    op.create_table(
        'review_visits',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('seen_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('since_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_review_visits_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_review_visits')),
    )
    # Replies up to 1,000 characters (ANOTEA's 300 cut explanations short).
    with op.batch_alter_table('replies') as batch_op:
        batch_op.alter_column('text', existing_type=sa.String(length=300),
                              type_=sa.String(length=1000), existing_nullable=False)


def downgrade() -> None:
    # Longer replies are cut rather than refused: a downgrade must go through.
    op.execute("UPDATE replies SET text = substr(text, 1, 300) WHERE length(text) > 300")
    with op.batch_alter_table('replies') as batch_op:
        batch_op.alter_column('text', existing_type=sa.String(length=1000),
                              type_=sa.String(length=300), existing_nullable=False)
    op.drop_table('review_visits')
    with op.batch_alter_table('review_reads') as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_reads_answer_id'))
    op.drop_table('review_reads')
