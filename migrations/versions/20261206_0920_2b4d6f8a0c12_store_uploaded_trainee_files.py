"""store trainee files uploaded in the back office and their import's progress

Revision ID: 2b4d6f8a0c12
Revises: 1a3c5e7f9b01
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

revision: str = '2b4d6f8a0c12'
down_revision: str | None = '1a3c5e7f9b01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
