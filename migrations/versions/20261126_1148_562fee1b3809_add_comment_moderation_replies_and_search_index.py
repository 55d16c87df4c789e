"""add comment moderation, replies and the search index

Revision ID: 562fee1b3809
Revises: 8cbe41ef8a4c
Create Date: 2026-11-26 11:48:05.809084
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '562fee1b3809'
down_revision: str | None = '8cbe41ef8a4c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('search_terms',
    sa.Column('term', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('training_body_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['training_body_id'], ['training_bodies.id'], name=op.f('fk_search_terms_training_body_id_training_bodies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'training_body_id', name=op.f('pk_search_terms'))
    )
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_terms_training_body_id'), ['training_body_id'], unique=False)

    op.create_table('replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('pending', 'published', 'rejected', name='commentstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_replies_answer_id_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replies')),
    sa.UniqueConstraint('answer_id', name=op.f('uq_replies_answer_id'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_status', sa.Enum('pending', 'published', 'rejected', name='commentstatus', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.create_index('ix_answers_body_comments', ['training_body_id', 'comment_status', 'answered_on'], unique=False)
        batch_op.create_index('ix_answers_course_comments', ['course_id', 'comment_status', 'answered_on'], unique=False)
    # Comments given with consent before moderation existed await it.
    op.execute("UPDATE answers SET comment_status = 'pending' "
               "WHERE comment_public AND comment_text IS NOT NULL")



def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_course_comments')
        batch_op.drop_index('ix_answers_body_comments')
        batch_op.drop_constraint(op.f('ck_answers_commentstatus'), type_='check')
        batch_op.drop_column('comment_status')

    op.drop_table('replies')
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_terms_training_body_id'))

    op.drop_table('search_terms')
