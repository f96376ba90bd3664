"""saved answers: per-item stamps, a save counter and the time of the last save

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:30:00

Saves merge monotonically (issue 17): a save never replaces a newer answer with an older or
empty one, which needs the stamp of the save that set each item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answer_stamps", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("answers_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "answers_saved_at",
                survey_service.db._types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.drop_column("answers_saved_at")
        batch_op.drop_column("answers_version")
        batch_op.drop_column("answer_stamps")
