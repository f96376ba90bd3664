"""forced password change (issue 13): staff_users.must_change_password

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-11 10:00:00

An account created with a one-time password (``runxin staff add``, the staff accounts page) or
whose password an administrator reset must choose its own password at the next sign-in. Every
existing account keeps its password: the column starts false.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
