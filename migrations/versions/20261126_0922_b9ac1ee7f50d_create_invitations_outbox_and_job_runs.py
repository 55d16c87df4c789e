"""create invitations outbox and job runs

Revision ID: b9ac1ee7f50d
Revises: 82a23094ea46
Create Date: 2026-11-26 09:22:09.471615
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'b9ac1ee7f50d'
down_revision: str | None = '82a23094ea46'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('tick_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('started_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('finished_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('runner', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'tick_dt', name=op.f('uq_job_runs_job_tick_dt'))
    )
    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('reason', sa.Enum('bounce', 'complaint', 'unsubscribe', name='suppressionreason', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('email_digest', name=op.f('uq_suppressions_email_digest'))
    )
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('end_of_training', 'follow_up', name='invitationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'delivered', 'opened', 'answered', 'bounced', 'complained', 'unsubscribed', 'expired', 'failed', name='invitationstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('expires_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('first_sent_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('last_sent_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('reminders_queued', sa.Integer(), nullable=False),
    sa.Column('delivered_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('opened_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('clicked_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('answered_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('status_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_invitations_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('enrolment_id', 'kind', name=op.f('uq_invitations_enrolment_id_kind'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_expires_dt'), ['expires_dt'], unique=False)
        batch_op.create_index('ix_invitations_status_first_sent_dt', ['status', 'first_sent_dt'], unique=False)

    op.create_table('invitation_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invitation_tokens_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_invitation_tokens_digest'))
    )
    with op.batch_alter_table('invitation_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_tokens_invitation_id'), ['invitation_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.SmallInteger(), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'unknown', 'failed', 'cancelled', name='messagestatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_attempt_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('lease_expires_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(), nullable=False),
    sa.Column('sent_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_outbox_messages_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('invitation_id', 'sequence', name=op.f('uq_outbox_messages_invitation_id_sequence'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_status_next_attempt_dt', ['status', 'next_attempt_dt'], unique=False)

    op.create_table('provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('occurred_dt', avis.db.UTCDateTime(), nullable=True),
    sa.Column('received_dt', avis.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_provider_events_invitation_id_invitations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_provider_events_event_id'))
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_events_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_events_received_dt'), ['received_dt'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_events_received_dt'))
        batch_op.drop_index(batch_op.f('ix_provider_events_invitation_id'))

    op.drop_table('provider_events')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_next_attempt_dt')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('invitation_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_tokens_invitation_id'))

    op.drop_table('invitation_tokens')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_status_first_sent_dt')
        batch_op.drop_index(batch_op.f('ix_invitations_expires_dt'))

    op.drop_table('invitations')
    op.drop_table('suppressions')
    op.drop_table('job_runs')
