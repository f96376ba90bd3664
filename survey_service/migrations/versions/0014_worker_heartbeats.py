"""dispatcher heartbeats (issue 14): worker_heartbeats

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-18 10:00:00

Each ``runxin worker`` process upserts one row every loop (its id, a host and process label,
when it started, when it last beat). ``/readyz`` is not ready while no row is fresh, and
``/metrics`` exports the freshest beat's age: a dead dispatcher means no alert is ever sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "started_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_beat_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
