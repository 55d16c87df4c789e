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
    pass


def downgrade() -> None:
    pass
