"""Append-only audit trail of every read or change of an individual student's record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from survey_service.db import AsyncSession, AuditEntry


def record(
    db: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_ids: Sequence[uuid.UUID],
    school_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """Add an audit row to the current transaction (it commits or rolls back with the read)."""
    db.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            actor_role=actor_role,
            action=action,
            subject_type=subject_type,
            subject_ids=[str(i) for i in subject_ids],
            school_id=school_id,
        )
    )
