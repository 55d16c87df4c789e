"""track reviews read by training bodies

Revision ID: 6e8a0c2d4f56
Revises: 4d6f8b0c2e34
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = '6e8a0c2d4f56'
down_revision: str | None = '4d6f8b0c2e34'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
