"""Writing notifications into the outbox, inside the transaction of the event that causes them.

A notification carries the minimum: event, tier, school, deadline, a link. Never answers, scores
or the student's name (DESIGN.md, "Notifications and escalation").
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from ..db import AsyncSession, Case, OutboxMessage


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


async def enqueue_case_notification(
    db: AsyncSession,
    *,
    case: Case,
    event: str,
    level: int,
    recipient_role: str,
    deadline: datetime,
    base_url: str,
    now: datetime,
    channel: str = "webhook",
    due_at: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one notification about ``case`` for ``recipient_role``.

    The same (case, event, level, role, channel) is queued at most once: a second call returns
    ``None`` instead of a duplicate, so retried sweeps never double-notify. ``due_at`` (default
    ``now``) orders deliveries: an escalation step is queued as due when its step fell due, so
    steps that fire together after a clock jump are still delivered in ladder order.
    """
    dedup_key = f"{case.id}:{event}:{level}:{recipient_role}:{channel}"
    existing = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return None
    delivery_id = uuid.uuid4().hex
    payload = {
        "event": event,
        "delivery_id": delivery_id,
        "case_id": str(case.id),
        "tier": case.tier,
        "school_id": str(case.school_id),
        "deadline": _iso(deadline),
        "escalation_level": level,
        "recipient_role": recipient_role,
        "link": f"{base_url.rstrip('/')}/api/v1/cases/{case.id}",
        "created_at": _iso(now),
    }
    message = OutboxMessage(
        delivery_id=delivery_id,
        dedup_key=dedup_key,
        case_id=case.id,
        school_id=case.school_id,
        event=event,
        channel=channel,
        recipient_role=recipient_role,
        tier=case.tier,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=min(due_at, now) if due_at is not None else now,
    )
    db.add(message)
    return message
