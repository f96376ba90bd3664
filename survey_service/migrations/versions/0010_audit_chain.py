"""tamper-evident audit (issue 19): hash chain, append-only enforcement

Adds the hash-chain columns of ``audit_log`` (``seq``, ``prev_hash``, ``row_hash``, set once by
the sealer) and ``detail``; the one-row ``audit_chain_head``; and database rules that make the
log append-only whatever the application does:

* SQLite: ``BEFORE DELETE`` and ``BEFORE UPDATE`` triggers that ``RAISE(ABORT)``: no DELETE ever;
  an UPDATE only when it seals an unsealed row (``OLD.row_hash IS NULL``) and changes nothing but
  the three seal columns. The chain head may only move forward and is never deleted.
* PostgreSQL: the same rule in trigger functions (plus ``BEFORE TRUNCATE``), and
  ``REVOKE UPDATE, DELETE, TRUNCATE ... FROM PUBLIC``. The owner of a table keeps every right on
  it, so in production run the service as a role that does not own the tables (see
  ``docs/audit.md``); the triggers hold even for the owner, short of dropping them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey_service.db._types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
    END
    """,
    """
    CREATE TRIGGER audit_log_seal_only BEFORE UPDATE ON audit_log
    WHEN OLD.row_hash IS NOT NULL
        OR NEW.row_hash IS NULL OR NEW.prev_hash IS NULL OR NEW.seq IS NULL
        OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
        OR NEW.actor_id IS NOT OLD.actor_id OR NEW.actor_role IS NOT OLD.actor_role
        OR NEW.action IS NOT OLD.action OR NEW.subject_type IS NOT OLD.subject_type
        OR NEW.subject_ids IS NOT OLD.subject_ids OR NEW.school_id IS NOT OLD.school_id
        OR NEW.detail IS NOT OLD.detail
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: only sealing an unsealed row may update it');
    END
    """,
    """
    CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    BEGIN
        SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted');
    END
    """,
    """
    CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
    WHEN NEW.id IS NOT OLD.id OR NEW.last_seq < OLD.last_seq
    BEGIN
        SELECT RAISE(ABORT, 'audit_chain_head may only move forward');
    END
    """,
)

_PG_UP = (
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
            RAISE EXCEPTION 'audit_log is append-only: rows cannot be deleted';
        END IF;
        IF OLD.row_hash IS NOT NULL
            OR NEW.row_hash IS NULL OR NEW.prev_hash IS NULL OR NEW.seq IS NULL
            OR NEW.id IS DISTINCT FROM OLD.id OR NEW.at IS DISTINCT FROM OLD.at
            OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
            OR NEW.actor_role IS DISTINCT FROM OLD.actor_role
            OR NEW.action IS DISTINCT FROM OLD.action
            OR NEW.subject_type IS DISTINCT FROM OLD.subject_type
            OR NEW.subject_ids::text IS DISTINCT FROM OLD.subject_ids::text
            OR NEW.school_id IS DISTINCT FROM OLD.school_id
            OR NEW.detail::text IS DISTINCT FROM OLD.detail::text
        THEN
            RAISE EXCEPTION
                'audit_log is append-only: only sealing an unsealed row may update it';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' THEN
            RAISE EXCEPTION 'audit_chain_head cannot be deleted';
        END IF;
        IF NEW.id IS DISTINCT FROM OLD.id OR NEW.last_seq < OLD.last_seq THEN
            RAISE EXCEPTION 'audit_chain_head may only move forward';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward()
    """,
    """
    CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward()
    """,
    # Documentation as much as protection: PUBLIC has no such rights by default, and the owner
    # keeps them whatever is revoked here. Run the service as a non-owner role that was granted
    # only SELECT and INSERT on audit_log (docs/audit.md); the triggers above bind everyone.
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
    "REVOKE DELETE, TRUNCATE ON audit_chain_head FROM PUBLIC",
)

_PG_DOWN = (
    "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head",
    "DROP FUNCTION IF EXISTS audit_chain_head_forward()",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)

_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_chain_head_forward",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_log_seal_only",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_seq"), ["seq"], unique=True)

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", survey_service.db._types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS, "sealed_at": None}])

    statements = _PG_UP if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _PG_DOWN if op.get_bind().dialect.name == "postgresql" else _SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_seq"))
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("detail")
