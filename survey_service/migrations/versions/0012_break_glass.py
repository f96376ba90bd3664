"""break-glass reads (issue 19): time-boxed, reasoned access to identities

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:00:00

A district officer sees no student identities; ``break_glass_grants`` records each stated,
time-boxed exception (who, which case and student, why, from when until when).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "expires_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_break_glass_grants_user_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_break_glass_grants_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_break_glass_grants_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_break_glass_grants_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_break_glass_grants_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_break_glass_grants_student_id"), ["student_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_student_id"))
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_case_id"))
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_user_id"))
    op.drop_table("break_glass_grants")
