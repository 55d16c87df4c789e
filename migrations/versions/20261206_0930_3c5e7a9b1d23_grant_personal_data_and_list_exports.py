"""grant staff accounts the reading of personal data

Revision ID: 3c5e7a9b1d23
Revises: 2b4d6f8a0c12
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

revision: str = '3c5e7a9b1d23'
down_revision: str | None = '2b4d6f8a0c12'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
