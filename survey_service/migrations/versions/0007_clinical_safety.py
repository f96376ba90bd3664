"""clinical safety: saved-answer triage, on-call rota, result language, language fallback

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:50:00

Issue 11: abandoned sessions with critical saved answers are triaged once by the sweeper
(``saved_triaged_at``); a school's on-call rota for suicide pathways outside school hours;
the language and validation status a result was given in; a campaign's explicit permission
to deliver an instrument in English where it has no text in the campaign's language.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "saved_triaged_at",
                survey_service.db._types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_call_rota", sa.JSON(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("language_status", sa.String(length=16), nullable=True))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_language_fallback", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("allow_language_fallback")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_column("language_status")
        batch_op.drop_column("language")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("on_call_rota")
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.drop_column("saved_triaged_at")
