"""A case's history: the one constructor of ``CaseEvent`` rows.

Every change to a case (opened, tier raised, acknowledged, escalated, care-group members, plans,
referrals, records…) is an event with a kind, the time, the actor (``None`` for the system)
and structured data; never free text from a student.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from survey_service.db import CaseEvent

__all__ = ["case_event"]


def case_event(
    case_id: uuid.UUID,
    kind: str,
    *,
    at: datetime,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """A new event of case ``case_id`` (add it to the session; nothing is flushed here)."""
    return CaseEvent(
        case_id=case_id, kind=kind, actor_id=actor_id, at=at, note=note, data=data or {}
    )
