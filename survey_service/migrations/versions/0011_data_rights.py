"""data rights (issue 19): consent records, withdrawal, retention

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00

A campaign names the version of the consent notice guardians see; a consent records the notice
version, how it was verified and by whom, and a withdrawal (when, by whom, channel, reason);
``consent_events`` keeps every decision (append-only history); ``retention_runs`` records each
run of the retention job (counts per data kind, no personal data).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _utc() -> sa.types.TypeEngine[object]:
    return survey_service.db._types.UTCDateTime(timezone=True)  # type: ignore[return-value]


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent_notice_version",
                sa.String(length=32),
                server_default="2026.1",
                nullable=False,
            )
        )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("verification_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("verified_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", _utc(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_consents_verified_by_staff_users"),
            "staff_users",
            ["verified_by"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_consents_withdrawn_by_staff_users"),
            "staff_users",
            ["withdrawn_by"],
            ["id"],
        )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("notice_version", sa.String(length=32), nullable=True),
        sa.Column("guardian_name", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("verified_by", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_consent_events_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_events_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["staff_users.id"],
            name=op.f("fk_consent_events_recorded_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_consent_events_student_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"],
            ["staff_users.id"],
            name=op.f("fk_consent_events_verified_by_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_events_student_id"), ["student_id"], unique=False
        )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_runs_at"), ["at"], unique=False)
    # Consents recorded before 0011 came on the paper slips printed by the school.
    op.execute(
        "UPDATE consents SET verification_method = 'paper_slip', notice_version = '2026.1' "
        "WHERE verification_method IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_runs_at"))
    op.drop_table("retention_runs")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_student_id"))
        batch_op.drop_index(batch_op.f("ix_consent_events_consent_id"))
    op.drop_table("consent_events")
    # The old schema knows only granted | refused: a withdrawal stays a refusal (processing
    # stays stopped) rather than silently becoming nothing.
    op.execute("UPDATE consents SET status = 'refused' WHERE status = 'withdrawn'")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_consents_withdrawn_by_staff_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_consents_verified_by_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawal_channel")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("verification_method")
        batch_op.drop_column("notice_version")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("consent_notice_version")
