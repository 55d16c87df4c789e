"""add score parts, priors and runs: the persistent counts ``refresh`` sums, the priors
frozen at the last full recomputation, where the next refresh starts from; and the
invitation and enrolment indexes with which ``refresh`` finds and counts what changed

Revision ID: 6d5e7ca052bc
Revises: 562fee1b3809
Create Date: 2026-11-26 13:03:38.549760
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '6d5e7ca052bc'
down_revision: str | None = '562fee1b3809'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('score_parts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('recommend', sa.Integer(), nullable=False),
    sa.Column('welcome_1', sa.Integer(), nullable=False),
    sa.Column('welcome_2', sa.Integer(), nullable=False),
    sa.Column('welcome_3', sa.Integer(), nullable=False),
    sa.Column('welcome_4', sa.Integer(), nullable=False),
    sa.Column('welcome_5', sa.Integer(), nullable=False),
    sa.Column('content_1', sa.Integer(), nullable=False),
    sa.Column('content_2', sa.Integer(), nullable=False),
    sa.Column('content_3', sa.Integer(), nullable=False),
    sa.Column('content_4', sa.Integer(), nullable=False),
    sa.Column('content_5', sa.Integer(), nullable=False),
    sa.Column('trainers_1', sa.Integer(), nullable=False),
    sa.Column('trainers_2', sa.Integer(), nullable=False),
    sa.Column('trainers_3', sa.Integer(), nullable=False),
    sa.Column('trainers_4', sa.Integer(), nullable=False),
    sa.Column('trainers_5', sa.Integer(), nullable=False),
    sa.Column('equipment_1', sa.Integer(), nullable=False),
    sa.Column('equipment_2', sa.Integer(), nullable=False),
    sa.Column('equipment_3', sa.Integer(), nullable=False),
    sa.Column('equipment_4', sa.Integer(), nullable=False),
    sa.Column('equipment_5', sa.Integer(), nullable=False),
    sa.Column('support_1', sa.Integer(), nullable=False),
    sa.Column('support_2', sa.Integer(), nullable=False),
    sa.Column('support_3', sa.Integer(), nullable=False),
    sa.Column('support_4', sa.Integer(), nullable=False),
    sa.Column('support_5', sa.Integer(), nullable=False),
    sa.Column('squares', sa.BigInteger(), nullable=False),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('employed', sa.Integer(), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('session_id', 'action_id', 'course_id', 'training_body_id', name=op.f('pk_score_parts'))
    )

    with op.batch_alter_table('score_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_parts_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_parts_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_parts_departement'), ['departement'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_parts_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_parts_training_body_id'), ['training_body_id'], unique=False)

    op.create_table('score_priors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=True),
    sa.Column('answers_count', sa.Integer(), nullable=False),
    sa.Column('mean_overall', sa.Double(), nullable=True),
    sa.Column('pooled_variance', sa.Double(), nullable=True),
    sa.Column('computed_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_priors')),
    sa.UniqueConstraint('region_code', name=op.f('uq_score_priors_region_code'))
    )
    op.create_table('score_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('is_full', sa.Boolean(), nullable=False),
    sa.Column('started_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_answer_id', sa.Integer(), nullable=False),
    sa.Column('last_follow_up_id', sa.Integer(), nullable=False),
    sa.Column('sessions_changed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_runs'))
    )

    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_created_dt'), ['created_dt'], unique=False)
        batch_op.create_index('ix_enrolments_id_session_id', ['id', 'session_id'], unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_enrolment_id_kind_status_first_sent_dt', ['enrolment_id', 'kind', 'status', 'first_sent_dt'], unique=False)
        batch_op.create_index('ix_invitations_status_dt_kind_enrolment_id', ['status_dt', 'kind', 'enrolment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_status_dt_kind_enrolment_id')
        batch_op.drop_index('ix_invitations_enrolment_id_kind_status_first_sent_dt')

    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolments_id_session_id')
        batch_op.drop_index(batch_op.f('ix_enrolments_created_dt'))

    op.drop_table('score_runs')
    op.drop_table('score_priors')
    with op.batch_alter_table('score_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_parts_training_body_id'))
        batch_op.drop_index(batch_op.f('ix_score_parts_region_code'))
        batch_op.drop_index(batch_op.f('ix_score_parts_departement'))
        batch_op.drop_index(batch_op.f('ix_score_parts_course_id'))
        batch_op.drop_index(batch_op.f('ix_score_parts_action_id'))

    op.drop_table('score_parts')
