"""measure the dashboard faster

Revision ID: 8a0c2e4f6b78
Revises: 7f9b1d3e5a67
Create Date: 2026-12-06 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '8a0c2e4f6b78'
down_revision: str | None = '7f9b1d3e5a67'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
