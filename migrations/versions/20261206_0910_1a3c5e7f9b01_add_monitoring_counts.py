"""add the monitoring's pre-aggregated funnel counts

Revision ID: 1a3c5e7f9b01
Revises: 5e7a9c1d3f45
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import avis.db

revision: str = '1a3c5e7f9b01'
down_revision: str | None = '5e7a9c1d3f45'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ('enrolled', 'invited', 'sent', 'delivered', 'opened', 'clicked', 'answered',
          'bounced', 'complained', 'unsubscribed', 'expired', 'failed', 'answers',
          'marks_total', 'satisfied', 'recommended', 'follow_ups', 'employed')
#: Invitation columns the refresh looks for recent changes of.
INVITATION_TIMES = ('clicked_dt', 'delivered_dt', 'opened_dt', 'first_sent_dt')


def upgrade() -> None:
    op.create_table('monitoring_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('end_of_training', 'follow_up', name='invitationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=False),
    sa.Column('end_month', sa.Date(), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('funders', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('funding_scheme', sa.String(length=32), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_counts')),
    sa.UniqueConstraint('session_id', 'campaign', 'kind', 'training_body_id', 'course_id', name='uq_monitoring_counts_row')
    )
    with op.batch_alter_table('monitoring_counts', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_counts_kind_month', ['kind', 'end_month'], unique=False)
        batch_op.create_index('ix_monitoring_counts_region_kind_month', ['region_code', 'kind', 'end_month'], unique=False)
        batch_op.create_index('ix_monitoring_counts_training_body_id', ['training_body_id'], unique=False)
        batch_op.create_index('ix_monitoring_counts_course_id', ['course_id'], unique=False)
        batch_op.create_index('ix_monitoring_counts_departement', ['departement'], unique=False)

    op.create_table('monitoring_month_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('end_month', sa.Date(), nullable=False),
    sa.Column('funders', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('funding_scheme', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('end_of_training', 'follow_up', name='invitationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_month_counts')),
    sa.UniqueConstraint('region_code', 'campaign', 'end_month', 'funders', 'funding_scheme', 'kind', name='uq_monitoring_month_counts_row')
    )
    op.create_table('monitoring_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('is_full', sa.Boolean(), nullable=False),
    sa.Column('started_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_answer_id', sa.Integer(), nullable=False),
    sa.Column('last_follow_up_id', sa.Integer(), nullable=False),
    sa.Column('sessions_changed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_runs'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        for column in INVITATION_TIMES:
            batch_op.create_index(f'ix_invitations_{column}', [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        for column in INVITATION_TIMES:
            batch_op.drop_index(f'ix_invitations_{column}')
    op.drop_table('monitoring_runs')
    op.drop_table('monitoring_month_counts')
    with op.batch_alter_table('monitoring_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_counts_departement')
        batch_op.drop_index('ix_monitoring_counts_course_id')
        batch_op.drop_index('ix_monitoring_counts_training_body_id')
        batch_op.drop_index('ix_monitoring_counts_region_kind_month')
        batch_op.drop_index('ix_monitoring_counts_kind_month')
    op.drop_table('monitoring_counts')
