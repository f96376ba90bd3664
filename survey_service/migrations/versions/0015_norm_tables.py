"""local norms (issue 16): norm_tables, campaign_norms

Revision ID: 0015
Revises: 0014
Create Date: 2027-02-01 10:00:00

Expand only (docs/upgrades.md): two new tables. ``norm_tables`` holds versioned norm tables
(built from a campaign by ``runxin norms build`` or loaded from a published file by ``runxin
norms load``): aggregates only, no student-level data. ``campaign_norms`` says which version a
campaign's results of an instrument scale are read against (display only; never a tier).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "norm_tables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("scale", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("min_cell", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_norm_tables_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_norm_tables")),
        sa.UniqueConstraint(
            "instrument_id", "scale", "version", name=op.f("uq_norm_tables_instrument_id")
        ),
    )
    with op.batch_alter_table("norm_tables", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_norm_tables_instrument_id"), ["instrument_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_norm_tables_campaign_id"), ["campaign_id"], unique=False
        )
    op.create_table(
        "campaign_norms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("scale", sa.String(length=64), nullable=False),
        sa.Column("norm_table_id", sa.Uuid(), nullable=False),
        sa.Column("chosen_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_norms_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["norm_table_id"],
            ["norm_tables.id"],
            name=op.f("fk_campaign_norms_norm_table_id_norm_tables"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_norms")),
        sa.UniqueConstraint(
            "campaign_id", "instrument_id", "scale", name=op.f("uq_campaign_norms_campaign_id")
        ),
    )
    with op.batch_alter_table("campaign_norms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_norms_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_norms_norm_table_id"), ["norm_table_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_norms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_norms_norm_table_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_norms_campaign_id"))
    op.drop_table("campaign_norms")
    with op.batch_alter_table("norm_tables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_norm_tables_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_norm_tables_instrument_id"))
    op.drop_table("norm_tables")
