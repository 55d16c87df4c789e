"""erase trainees on request: the erased addresses' salted hashes

Revision ID: 9b1d3f5a7c89
Revises: 8a0c2e4f6b78
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '9b1d3f5a7c89'
down_revision: str | None = '8a0c2e4f6b78'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('trainees') as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.add_column(sa.Column('erased_dt', avis.db.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'erased_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('reason', sa.Enum('request', 'retention', 'self_service',
                                    name='erasurereason', native_enum=False, length=16,
                                    create_constraint=True), nullable=False),
        sa.Column('erased_dt', avis.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('erased_by_id', sa.Integer(), nullable=True),
        sa.Column('readmitted_dt', avis.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('readmitted_by_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_addresses')),
        sa.UniqueConstraint('digest', name=op.f('uq_erased_addresses_digest')),
    )


def downgrade() -> None:
    op.drop_table('erased_addresses')
    # Erased trainees have no address left to restore: their rows go (with their
    # enrolments and invitations, by cascade) so that the column can be NOT NULL again.
    op.execute("DELETE FROM trainees WHERE email IS NULL")
    with op.batch_alter_table('trainees') as batch_op:
        batch_op.drop_column('erased_dt')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
