"""store trainee files uploaded in the back office and their import's progress

Revision ID: 2b4d6f8a0c12
Revises: 1a3c5e7f9b01
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import avis.db

revision: str = '2b4d6f8a0c12'
down_revision: str | None = '1a3c5e7f9b01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'running', 'completed', 'failed', 'interrupted'"


def upgrade() -> None:
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('region_code', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column(
            'funder_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                   'postgresql'),
            nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('upload_dir', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('file_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('chunk_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('lease_until_dt', avis.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('rejects_size', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.create_foreign_key(batch_op.f('fk_import_runs_account_id_accounts'),
                                    'accounts', ['account_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_import_runs_account_id'), ['account_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_region_code'), ['region_code'],
                              unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_import_runs_upload_dir'),
                                          ['upload_dir'])
        batch_op.drop_constraint(op.f('ck_import_runs_importstatus'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_runs_importstatus'), sa.text(
            f"status IN ('queued', {STATUSES}, 'cancelled')"))


def downgrade() -> None:
    # Uploads that never ran have no command-line meaning: they go with their columns.
    op.execute("DELETE FROM import_runs WHERE status IN ('queued', 'cancelled')")
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_runs_importstatus'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_runs_importstatus'),
                                         sa.text(f"status IN ({STATUSES})"))
        batch_op.drop_constraint(batch_op.f('uq_import_runs_upload_dir'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_import_runs_region_code'))
        batch_op.drop_index(batch_op.f('ix_import_runs_account_id'))
        batch_op.drop_constraint(batch_op.f('fk_import_runs_account_id_accounts'),
                                 type_='foreignkey')
        batch_op.drop_column('rejects_size')
        batch_op.drop_column('lease_until_dt')
        batch_op.drop_column('attempts')
        batch_op.drop_column('chunk_size')
        batch_op.drop_column('file_size')
        batch_op.drop_column('upload_dir')
        batch_op.drop_column('funder_codes')
        batch_op.drop_column('region_code')
        batch_op.drop_column('account_id')
