"""add the monitoring's pre-aggregated funnel counts

Revision ID: 1a3c5e7f9b01
Revises: 5e7a9c1d3f45
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

revision: str = '1a3c5e7f9b01'
down_revision: str | None = '5e7a9c1d3f45'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
