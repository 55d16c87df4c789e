"""notify training bodies: digest, decisions, preferences, colleagues

Revision ID: 7f9b1d3e5a67
Revises: 6e8a0c2d4f56
Create Date: 2026-12-06 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '7f9b1d3e5a67'
down_revision: str | None = '6e8a0c2d4f56'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ACCOUNT_MAILS = ("'activation', 'activation_reminder', 'reset', 'report_decided', "
                 "'moderation_backlog', 'alerts_digest'")
TOPIC = sa.Enum('digest', 'reply_decisions', 'report_decisions', name='topic',
                native_enum=False, length=24, create_constraint=True)


def upgrade() -> None:
    op.create_table(
        'body_notification_opt_outs',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('topic', TOPIC, nullable=False),
        sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_body_notification_opt_outs_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'topic',
                                name=op.f('pk_body_notification_opt_outs')),
    )
    op.create_table(
        'body_unsubscribe_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('topic', TOPIC, nullable=False),
        sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_body_unsubscribe_tokens_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_body_unsubscribe_tokens')),
        sa.UniqueConstraint('digest', name=op.f('uq_body_unsubscribe_tokens_digest')),
    )
    with op.batch_alter_table('body_unsubscribe_tokens') as batch_op:
        batch_op.create_index(batch_op.f('ix_body_unsubscribe_tokens_account_id'),
                              ['account_id'])
        batch_op.create_index(batch_op.f('ix_body_unsubscribe_tokens_expires_dt'),
                              ['expires_dt'])
    op.create_table(
        'body_digest_mails',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('until_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('until_answer_id', sa.Integer(), nullable=True),
        sa.Column('reviews', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_body_digest_mails_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['account_messages.id'],
                                name=op.f('fk_body_digest_mails_message_id_account_messages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', name=op.f('pk_body_digest_mails')),
    )
    with op.batch_alter_table('body_digest_mails') as batch_op:
        batch_op.create_index(batch_op.f('ix_body_digest_mails_account_id'), ['account_id'])
    op.create_table(
        'body_reply_decision_mails',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'published', 'rejected', name='commentstatus',
                                    native_enum=False, length=16, create_constraint=True),
                  nullable=False),
        sa.ForeignKeyConstraint(
            ['message_id'], ['account_messages.id'],
            name=op.f('fk_body_reply_decision_mails_message_id_account_messages'),
            ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reply_id'], ['replies.id'],
                                name=op.f('fk_body_reply_decision_mails_reply_id_replies'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', name=op.f('pk_body_reply_decision_mails')),
    )
    with op.batch_alter_table('body_reply_decision_mails') as batch_op:
        batch_op.create_index(batch_op.f('ix_body_reply_decision_mails_reply_id'),
                              ['reply_id'])
    with op.batch_alter_table('account_messages') as batch_op:
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'), sa.text(
            f"kind IN ({ACCOUNT_MAILS}, 'body_digest', 'reply_decided')"))


def downgrade() -> None:
    op.execute("DELETE FROM account_messages WHERE kind IN ('body_digest', 'reply_decided')")
    with op.batch_alter_table('account_messages') as batch_op:
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'),
                                         sa.text(f"kind IN ({ACCOUNT_MAILS})"))
    op.drop_table('body_reply_decision_mails')
    op.drop_table('body_digest_mails')
    op.drop_table('body_unsubscribe_tokens')
    op.drop_table('body_notification_opt_outs')
