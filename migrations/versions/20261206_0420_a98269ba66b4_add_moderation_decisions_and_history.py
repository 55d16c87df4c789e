"""add moderation decisions and history: the comment's qualification, rejection reason,
who decided and when, the answer's exclusion from scores; and the history of decisions
(with the text a redaction replaced)

Revision ID: a98269ba66b4
Revises: b6a599657255
Create Date: 2026-12-06 04:20:30.231247
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'a98269ba66b4'
down_revision: str | None = 'b6a599657255'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('moderation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('publish', 'reject', 'redact', 'withdraw', 'undo', 'exclude', 'include', name='decision', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('qualification', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=True),
    sa.Column('previous_status', sa.String(length=16), nullable=True),
    sa.Column('previous_title', sa.String(length=80), nullable=True),
    sa.Column('previous_text', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_moderation_events_answer_id_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_events'))
    )
    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_events_answer_id'), ['answer_id'], unique=False)

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qualification', sa.Enum('positive', 'neutral', 'negative', name='qualification', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.Enum('insult', 'personal_data', 'off_topic', 'serious_alert', name='rejectionreason', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('moderated_dt', avis.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('excluded_reason', sa.Enum('wrong_body', 'fraud', name='exclusionreason', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('exclusion_changed_dt', avis.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_answers_exclusion_changed_dt'), ['exclusion_changed_dt'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        # SQLite's batch copy would keep these checks on columns it no longer has.
        for name in ('qualification', 'rejectionreason', 'exclusionreason'):
            batch_op.drop_constraint(op.f(f'ck_answers_{name}'), type_='check')
        batch_op.drop_index(batch_op.f('ix_answers_exclusion_changed_dt'))
        batch_op.drop_column('exclusion_changed_dt')
        batch_op.drop_column('excluded_reason')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderated_dt')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('qualification')

    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_events_answer_id'))

    op.drop_table('moderation_events')
