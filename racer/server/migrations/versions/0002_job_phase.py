"""Jobs get a phase: evaluate first, then record the video.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phase", sa.String(length=16), server_default="evaluate", nullable=False)
        )


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("phase")
