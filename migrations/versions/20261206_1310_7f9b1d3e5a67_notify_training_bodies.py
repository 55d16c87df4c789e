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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
