"""create accounts (staff and training bodies), their sign-in sessions, emailed links,
recovery codes and account mail; and the append-only audit journal

Revision ID: 07bc2816ee21
Revises: 6d5e7ca052bc
Create Date: 2026-12-06 02:07:19.652597
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

import avis.db

revision: str = '07bc2816ee21'
down_revision: str | None = '6d5e7ca052bc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.Enum('admin', 'moderator', 'region', 'organisation', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('invited', 'active', 'disabled', name='accountstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=True),
    sa.Column('funder_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('password_changed_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_enabled_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'organisation' AND (siren IS NULL) <> (siret IS NULL)) OR (role <> 'organisation' AND siren IS NULL AND siret IS NULL)", name=op.f('ck_accounts_organisation_scope')),
    sa.CheckConstraint("role <> 'region' OR region_code IS NOT NULL", name=op.f('ck_accounts_region_scope')),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_accounts_created_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_siren'), ['siren'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_siret'), ['siret'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_events_actor_id', ['actor_id', 'occurred_dt'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_dt'), ['occurred_dt'], unique=False)
    # Append-only: the database itself refuses to change an event (the retention job
    # may still delete old ones).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
    else:
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")

    op.create_table('account_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('activation', 'activation_reminder', 'reset', name='accountmail', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', 'cancelled', name='accountmessagestatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_attempt_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_expires_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_messages_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_messages'))
    )
    with op.batch_alter_table('account_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_messages_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_account_messages_status_next_attempt_dt', ['status', 'next_attempt_dt'], unique=False)

    op.create_table('account_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_sessions')),
    sa.UniqueConstraint('digest', name=op.f('uq_account_sessions_digest'))
    )
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('activation', 'reset', name='tokenpurpose', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_account_tokens_digest'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_account_id'), ['account_id'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('used_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_recovery_codes_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('digest', name=op.f('uq_recovery_codes_digest'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_account_id'), ['account_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_account_id'))

    op.drop_table('recovery_codes')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_account_id'))

    op.drop_table('account_tokens')
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_sessions_account_id'))

    op.drop_table('account_sessions')
    with op.batch_alter_table('account_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_account_messages_status_next_attempt_dt')
        batch_op.drop_index(batch_op.f('ix_account_messages_account_id'))

    op.drop_table('account_messages')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_dt'))
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index('ix_audit_events_actor_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_siret'))
        batch_op.drop_index(batch_op.f('ix_accounts_siren'))

    op.drop_table('accounts')
