"""create answers and receipts

Revision ID: 05f995e5fb07
Revises: b9ac1ee7f50d
Create Date: 2026-11-26 10:07:47.080591
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '05f995e5fb07'
down_revision: str | None = 'b9ac1ee7f50d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('welcome', sa.SmallInteger(), nullable=False),
    sa.Column('content', sa.SmallInteger(), nullable=False),
    sa.Column('trainers', sa.SmallInteger(), nullable=False),
    sa.Column('equipment', sa.SmallInteger(), nullable=False),
    sa.Column('support', sa.SmallInteger(), nullable=False),
    sa.Column('overall', sa.Numeric(precision=2, scale=1), nullable=False),
    sa.Column('would_recommend', sa.Boolean(), nullable=False),
    sa.Column('comment_title', sa.String(length=80), nullable=True),
    sa.Column('comment_text', sa.Text(), nullable=True),
    sa.Column('comment_public', sa.Boolean(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.CheckConstraint('content BETWEEN 1 AND 5', name=op.f('ck_answers_content_range')),
    sa.CheckConstraint('equipment BETWEEN 1 AND 5', name=op.f('ck_answers_equipment_range')),
    sa.CheckConstraint('support BETWEEN 1 AND 5', name=op.f('ck_answers_support_range')),
    sa.CheckConstraint('trainers BETWEEN 1 AND 5', name=op.f('ck_answers_trainers_range')),
    sa.CheckConstraint('welcome BETWEEN 1 AND 5', name=op.f('ck_answers_welcome_range')),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_answers_action_id_actions')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_answers_course_id_courses')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_answers_session_id_sessions')),
    sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'], name=op.f('fk_answers_training_body_id_training_bodies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_answered_on'), ['answered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_training_body_id'), ['training_body_id'], unique=False)

    op.create_table('follow_up_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('situation', sa.Enum('employed', 'training', 'job_seeking', 'other', name='situation', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('contract_type', sa.Enum('permanent', 'fixed_term', 'temporary', 'apprenticeship', 'self_employed', 'other', name='contracttype', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('job_related', sa.Enum('yes', 'partly', 'no', name='jobrelation', native_enum=False, create_constraint=True, length=8), nullable=True),
    sa.Column('time_to_job', sa.Enum('under_1_month', 'one_to_3_months', 'three_to_6_months', 'before_end', name='timetojob', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('comment_text', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_follow_up_answers_action_id_actions')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_follow_up_answers_course_id_courses')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_follow_up_answers_session_id_sessions')),
    sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'], name=op.f('fk_follow_up_answers_training_body_id_training_bodies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_answers'))
    )
    with op.batch_alter_table('follow_up_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_answers_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_answers_answered_on'), ['answered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_answers_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_answers_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_answers_training_body_id'), ['training_body_id'], unique=False)

    op.create_table('answer_receipts',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('answered_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('accepts_contact', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_answer_receipts_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', name=op.f('pk_answer_receipts'))
    )


def downgrade() -> None:
    op.drop_table('answer_receipts')
    with op.batch_alter_table('follow_up_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_answers_training_body_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_answers_session_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_answers_course_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_answers_answered_on'))
        batch_op.drop_index(batch_op.f('ix_follow_up_answers_action_id'))

    op.drop_table('follow_up_answers')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_training_body_id'))
        batch_op.drop_index(batch_op.f('ix_answers_session_id'))
        batch_op.drop_index(batch_op.f('ix_answers_course_id'))
        batch_op.drop_index(batch_op.f('ix_answers_answered_on'))
        batch_op.drop_index(batch_op.f('ix_answers_action_id'))

    op.drop_table('answers')
