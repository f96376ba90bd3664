"""staff sessions and login attempts (issue 19): throttling, idle and absolute timeouts, revocation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00

``staff_tokens.last_used_at`` carries the idle timeout (existing tokens start from their
creation time); ``login_attempts`` holds every sign-in attempt, which the throttling counts per
account name and per client address.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_used_at",
                survey_service.db._types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    op.execute("UPDATE staff_tokens SET last_used_at = created_at")
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "last_used_at",
            existing_type=survey_service.db._types.UTCDateTime(timezone=True),
            nullable=False,
        )

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_login_attempts_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_address_at", ["address", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempts_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_user_id"))
        batch_op.drop_index("ix_login_attempts_address_at")
        batch_op.drop_index("ix_login_attempts_username_at")
    op.drop_table("login_attempts")
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
