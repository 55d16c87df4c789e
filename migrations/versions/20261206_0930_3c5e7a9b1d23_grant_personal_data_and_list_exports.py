"""grant staff accounts the reading of personal data

Revision ID: 3c5e7a9b1d23
Revises: 2b4d6f8a0c12
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3c5e7a9b1d23'
down_revision: str | None = '2b4d6f8a0c12'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_see_personal_data', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_check_constraint(
            op.f('ck_accounts_personal_data_roles'),
            "NOT can_see_personal_data OR role IN ('region', 'admin')")


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_accounts_personal_data_roles'), type_='check')
        batch_op.drop_column('can_see_personal_data')
