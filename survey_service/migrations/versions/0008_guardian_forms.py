"""guardian forms: parent-report battery, guardian access codes and sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

Issue 11: a campaign's ``guardian_battery`` (parent-report forms such as the PSC-17) is
answered by each student's guardian through a guardian access code. Access codes, sessions and
responses record their respondent ('self', the student, or 'parent'); a student has at most one
code of each respondent per campaign.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNIQUE = "uq_access_codes_campaign_id"


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("guardian_battery", sa.JSON(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("access_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("respondent", sa.String(length=16), server_default="self", nullable=False)
        )
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.create_unique_constraint(UNIQUE, ["campaign_id", "student_id", "respondent"])
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("respondent", sa.String(length=16), server_default="self", nullable=False)
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("respondent", sa.String(length=16), server_default="self", nullable=False)
        )


def downgrade() -> None:
    # Guardian codes (and their sessions and results) cannot be kept under the old rule of one
    # code per student: refuse rather than delete a child's results.
    guardian_codes = op.get_bind().scalar(
        sa.text("SELECT COUNT(*) FROM access_codes WHERE respondent <> 'self'")
    )
    if guardian_codes:
        raise RuntimeError(
            f"{guardian_codes} guardian access codes exist; downgrading below 0008 would lose "
            "them and their results"
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_column("respondent")
    with op.batch_alter_table("screening_sessions", schema=None) as batch_op:
        batch_op.drop_column("respondent")
    with op.batch_alter_table("access_codes", schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.create_unique_constraint(UNIQUE, ["campaign_id", "student_id"])
        batch_op.drop_column("respondent")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("guardian_battery")
