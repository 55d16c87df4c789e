"""let trainees erase their data

Revision ID: bd3f5b7c9ea1
Revises: ac2e4a6b8d90
Create Date: 2026-12-06 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'bd3f5b7c9ea1'
down_revision: str | None = 'ac2e4a6b8d90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
