"""create catalog and imports

Revision ID: 82a23094ea46
Revises: (none: the first migration)
Create Date: 2026-11-26 06:57:41.618242
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import avis.db

revision: str = '82a23094ea46'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('formacodes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('certifinfos', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('numero', name=op.f('uq_courses_numero'))
    )
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('running', 'completed', 'failed', 'interrupted', name='importstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('triggered_by', sa.String(length=100), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('finished_dt', avis.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_file_hash'), ['file_hash'], unique=False)

    op.create_table('trainees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('phone_1', sa.String(length=32), nullable=True),
    sa.Column('phone_2', sa.String(length=32), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainees')),
    sa.UniqueConstraint('email', name=op.f('uq_trainees_email'))
    )
    op.create_table('training_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_bodies')),
    sa.UniqueConstraint('siret', name=op.f('uq_training_bodies_siret'))
    )
    with op.batch_alter_table('training_bodies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_bodies_siren'), ['siren'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.String(length=64), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('responsible_body_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_actions_course_id_courses')),
    sa.ForeignKeyConstraint(['responsible_body_id'], ['training_bodies.id'], name=op.f('fk_actions_responsible_body_id_training_bodies')),
    sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'], name=op.f('fk_actions_training_body_id_training_bodies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    sa.UniqueConstraint('course_id', 'numero', name=op.f('uq_actions_course_id_numero'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_responsible_body_id'), ['responsible_body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_training_body_id'), ['training_body_id'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('numero', sa.String(length=64), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=5), nullable=False),
    sa.Column('insee_code', sa.String(length=5), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('funders', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('funding_scheme', sa.String(length=32), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_sessions_action_id_actions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('external_id', name=op.f('uq_sessions_external_id'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_departement'), ['departement'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_end_date'), ['end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_postcode'), ['postcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_region_code'), ['region_code'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('import_run_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('updated_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_enrolments_session_id_sessions')),
    sa.ForeignKeyConstraint(['trainee_id'], ['trainees.id'], name=op.f('fk_enrolments_trainee_id_trainees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('trainee_id', 'session_id', name=op.f('uq_enrolments_trainee_id_session_id'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_session_id'))

    op.drop_table('enrolments')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_region_code'))
        batch_op.drop_index(batch_op.f('ix_sessions_postcode'))
        batch_op.drop_index(batch_op.f('ix_sessions_end_date'))
        batch_op.drop_index(batch_op.f('ix_sessions_departement'))
        batch_op.drop_index(batch_op.f('ix_sessions_action_id'))

    op.drop_table('sessions')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_training_body_id'))
        batch_op.drop_index(batch_op.f('ix_actions_responsible_body_id'))

    op.drop_table('actions')
    with op.batch_alter_table('training_bodies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_bodies_siren'))

    op.drop_table('training_bodies')
    op.drop_table('trainees')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_file_hash'))

    op.drop_table('import_runs')
    op.drop_table('courses')
