"""apply retention rules

Revision ID: ac2e4a6b8d90
Revises: 9b1d3f5a7c89
Create Date: 2026-12-06 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import avis.db

revision: str = 'ac2e4a6b8d90'
down_revision: str | None = '9b1d3f5a7c89'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
