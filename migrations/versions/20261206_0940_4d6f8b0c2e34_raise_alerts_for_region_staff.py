"""raise alerts for Region staff: the alerts found by the daily job, the weekly email's
opt-outs, and that email's kind

Revision ID: 4d6f8b0c2e34
Revises: 3c5e7a9b1d23
Create Date: 2026-12-06 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '4d6f8b0c2e34'
down_revision: str | None = '3c5e7a9b1d23'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNT_MAILS = ("'activation', 'activation_reminder', 'reset', 'report_decided', "
                 "'moderation_backlog'")
RULES = "'score_drop', 'negative_reviews', 'bounces', 'low_response', 'serious_alert'"


def upgrade() -> None:
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.Enum('score_drop', 'negative_reviews', 'bounces', 'low_response',
                                  'serious_alert', name='alertrule', native_enum=False,
                                  length=20, create_constraint=True), nullable=False),
        sa.Column('region_code', sa.String(length=2), nullable=False),
        sa.Column('subject_key', sa.String(length=140), nullable=False),
        sa.Column('training_body_id', sa.Integer(), nullable=True),
        sa.Column('campaign', sa.String(length=100), nullable=True),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('open', 'acknowledged', 'closed', name='alertstatus',
                                    native_enum=False, length=16, create_constraint=True),
                  nullable=False),
        sa.Column('opened_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('seen_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reopened', sa.Integer(), nullable=False),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('acknowledged_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_value', sa.Float(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['answer_id'], ['answers.id'],
                                name=op.f('fk_alerts_answer_id_answers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'],
                                name=op.f('fk_alerts_training_body_id_training_bodies'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
        sa.UniqueConstraint('rule', 'region_code', 'subject_key',
                            name=op.f('uq_alerts_rule_region_code_subject_key')),
    )
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.create_index('ix_alerts_region_status', ['region_code', 'status'])
        batch_op.create_index(batch_op.f('ix_alerts_training_body_id'), ['training_body_id'])
    op.create_table(
        'alert_digest_opt_outs',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_alert_digest_opt_outs_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_alert_digest_opt_outs')),
    )
    with op.batch_alter_table('account_messages') as batch_op:
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'), sa.text(
            f"kind IN ({ACCOUNT_MAILS}, 'alerts_digest')"))


def downgrade() -> None:
    op.execute("DELETE FROM account_messages WHERE kind = 'alerts_digest'")
    with op.batch_alter_table('account_messages') as batch_op:
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'),
                                         sa.text(f"kind IN ({ACCOUNT_MAILS})"))
    op.drop_table('alert_digest_opt_outs')
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_training_body_id'))
        batch_op.drop_index('ix_alerts_region_status')
    op.drop_table('alerts')
