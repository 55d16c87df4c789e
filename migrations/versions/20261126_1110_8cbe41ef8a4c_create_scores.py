"""create scores

Revision ID: 8cbe41ef8a4c
Revises: 05f995e5fb07
Create Date: 2026-11-26 11:10:53.414697
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '8cbe41ef8a4c'
down_revision: str | None = '05f995e5fb07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('body', 'course', 'action', 'session', 'departement', 'region', name='scorescope', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('answers_count', sa.Integer(), nullable=False),
    sa.Column('mean_welcome', sa.Double(), nullable=True),
    sa.Column('mean_content', sa.Double(), nullable=True),
    sa.Column('mean_trainers', sa.Double(), nullable=True),
    sa.Column('mean_equipment', sa.Double(), nullable=True),
    sa.Column('mean_support', sa.Double(), nullable=True),
    sa.Column('mean_overall', sa.Double(), nullable=True),
    sa.Column('distribution_welcome', sa.JSON(), nullable=True),
    sa.Column('distribution_content', sa.JSON(), nullable=True),
    sa.Column('distribution_trainers', sa.JSON(), nullable=True),
    sa.Column('distribution_equipment', sa.JSON(), nullable=True),
    sa.Column('distribution_support', sa.JSON(), nullable=True),
    sa.Column('satisfied_share', sa.Double(), nullable=True),
    sa.Column('recommendation_rate', sa.Double(), nullable=True),
    sa.Column('invitations_delivered', sa.Integer(), nullable=False),
    sa.Column('response_rate', sa.Double(), nullable=True),
    sa.Column('follow_ups_count', sa.Integer(), nullable=False),
    sa.Column('insertion_rate', sa.Double(), nullable=True),
    sa.Column('prior_region_code', sa.String(length=2), nullable=True),
    sa.Column('prior_mean', sa.Double(), nullable=True),
    sa.Column('fair_score', sa.Double(), nullable=True),
    sa.Column('fair_score_low', sa.Double(), nullable=True),
    sa.Column('fair_score_high', sa.Double(), nullable=True),
    sa.Column('has_score', sa.Boolean(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('computed_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('last_answer_id', sa.Integer(), nullable=False),
    sa.Column('last_follow_up_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_scores_scope_key'))
    )


def downgrade() -> None:
    op.drop_table('scores')
