"""moderate replies and reports: who decided on a reply and why, when it was edited;
training bodies' reports on reviews; what a decision is about; pre-screening flags of
comments and replies; batches taken by a moderator

Revision ID: fdbbbbce4557
Revises: a98269ba66b4
Create Date: 2026-12-06 05:28:28.762943
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'fdbbbbce4557'
down_revision: str | None = 'a98269ba66b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNT_MAILS = "'activation', 'activation_reminder', 'reset'"
DECISIONS = "'publish', 'reject', 'redact', 'withdraw', 'undo', 'exclude', 'include'"


def upgrade() -> None:
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('abuse', 'personal_data', 'wrong_body', 'false_facts', 'other', name='reportreason', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'kept', 'removed', name='reportstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('decided_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_reports_answer_id_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'], name=op.f('fk_reports_training_body_id_training_bodies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('answer_id', 'training_body_id', name=op.f('uq_reports_answer_id_training_body_id'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_answer_id'), ['answer_id'], unique=False)
        batch_op.create_index('ix_reports_open', ['created_dt'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index(batch_op.f('ix_reports_training_body_id'), ['training_body_id'], unique=False)

    with op.batch_alter_table('account_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_account_messages_report_id_reports'),
                                    'reports', ['report_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'), sa.text(
            f"kind IN ({ACCOUNT_MAILS}, 'report_decided', 'moderation_backlog')"))

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_pending_comments')
        batch_op.create_index('ix_answers_pending_comments', ['answered_on', 'id'], unique=False,
                              postgresql_where=sa.text("comment_status = 'pending'"),
                              sqlite_where=sa.text("comment_status = 'pending'"))
        batch_op.add_column(sa.Column('flags', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_until', avis.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_moderation_events_decision'), type_='check')
        batch_op.create_check_constraint(op.f('ck_moderation_events_decision'), sa.text(
            f"decision IN ({DECISIONS}, 'keep', 'remove')"))
        batch_op.create_index(batch_op.f('ix_moderation_events_occurred_dt'), ['occurred_dt'],
                              unique=False)
        batch_op.add_column(sa.Column('subject', sa.Enum('comment', 'reply', 'report', name='subject', native_enum=False, create_constraint=True, length=16), server_default='comment', nullable=False))

    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_dt', avis.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.Enum('insult', 'personal_data', 'off_topic', 'serious_alert', name='rejectionreason', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('moderated_dt', avis.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.SmallInteger(), nullable=True))
        batch_op.create_index('ix_replies_pending', ['created_dt'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))



def downgrade() -> None:
    with op.batch_alter_table('replies', schema=None) as batch_op:
        # SQLite's batch copy would keep this check on a column it no longer has.
        batch_op.drop_constraint(op.f('ck_replies_rejectionreason'), type_='check')
        batch_op.drop_index('ix_replies_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_column('flags')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderated_dt')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('author_id')
        batch_op.drop_column('updated_dt')

    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_events_occurred_dt'))
        batch_op.drop_constraint(op.f('ck_moderation_events_subject'), type_='check')
        batch_op.drop_column('subject')
        batch_op.drop_constraint(op.f('ck_moderation_events_decision'), type_='check')
        batch_op.create_check_constraint(op.f('ck_moderation_events_decision'),
                                         sa.text(f"decision IN ({DECISIONS})"))

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_pending_comments')
        batch_op.create_index('ix_answers_pending_comments', ['answered_on'], unique=False,
                              postgresql_where=sa.text("comment_status = 'pending'"),
                              sqlite_where=sa.text("comment_status = 'pending'"))
        batch_op.drop_column('assigned_until')
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('flags')

    with op.batch_alter_table('account_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_account_messages_report_id_reports'),
                                 type_='foreignkey')
        batch_op.drop_column('report_id')
        batch_op.drop_constraint(op.f('ck_account_messages_accountmail'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_messages_accountmail'),
                                         sa.text(f"kind IN ({ACCOUNT_MAILS})"))

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_training_body_id'))
        batch_op.drop_index('ix_reports_open', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_reports_answer_id'))

    op.drop_table('reports')
