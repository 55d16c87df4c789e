"""the funnel's counts per training body and per course (the dashboard's breakdowns)

Revision ID: 8a0c2e4f6b78
Revises: 7f9b1d3e5a67
Create Date: 2026-12-06 13:20:00

Empty when created: the next run of the hourly job finds a previous run and only adds
what changed, so the counts are rebuilt here (in SQL, from ``monitoring_counts``, which
every later refresh keeps them in step with).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8a0c2e4f6b78'
down_revision: str | None = '7f9b1d3e5a67'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ('enrolled', 'invited', 'sent', 'delivered', 'opened', 'clicked', 'answered',
          'bounced', 'complained', 'unsubscribed', 'expired', 'failed', 'answers',
          'marks_total', 'satisfied', 'recommended', 'follow_ups', 'employed')
#: table → the column it sums per (…, région, département, kind)
TABLES = {'monitoring_body_counts': 'training_body_id', 'monitoring_course_counts': 'course_id'}


def upgrade() -> None:
    for table, key in TABLES.items():
        name = table.removeprefix('monitoring_')
        op.create_table(table,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(key, sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=2), nullable=False),
        sa.Column('departement', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.Enum('end_of_training', 'follow_up', name='invitationkind',
                                  native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in COUNTS),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
        sa.UniqueConstraint(key, 'region_code', 'departement', 'kind',
                            name=f'uq_monitoring_{name}_row')
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_monitoring_{name}_region_departement',
                                  ['region_code', 'departement'], unique=False)
        sums = ', '.join(f'sum({column})' for column in COUNTS)
        op.execute(f"INSERT INTO {table} ({key}, region_code, departement, kind, "
                   f"{', '.join(COUNTS)}) SELECT {key}, region_code, departement, kind, {sums} "
                   f"FROM monitoring_counts GROUP BY {key}, region_code, departement, kind")


def downgrade() -> None:
    for table in TABLES:
        name = table.removeprefix('monitoring_')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_monitoring_{name}_region_departement')
        op.drop_table(table)
