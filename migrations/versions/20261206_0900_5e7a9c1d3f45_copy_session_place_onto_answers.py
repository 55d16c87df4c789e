"""copy the session's région and département onto answers

Revision ID: 5e7a9c1d3f45
Revises: fdbbbbce4557
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

revision: str = '5e7a9c1d3f45'
down_revision: str | None = 'fdbbbbce4557'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
