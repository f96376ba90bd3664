"""Writing notifications into the outbox, inside the transaction of the event that causes them.

A notification carries the minimum: event, tier, school, deadline, a link. Never answers, scores
or the student's name (DESIGN.md, "Notifications and escalation").
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from ..db import AsyncSession, Case, OutboxMessage, School, SchoolClass, StaffUser, Student
from .routing import channel_named, recipients, route_for


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


async def enqueue(
    db: AsyncSession,
    *,
    school_id: uuid.UUID,
    case_id: uuid.UUID | None,
    tier: str | None,
    event: str,
    level: int,
    recipient_role: str,
    deadline: datetime,
    link: str,
    dedup_key: str,
    now: datetime,
    channel: str | None = None,
    due_at: datetime | None = None,
    extra: dict[str, str] | None = None,
    class_name: str | None = None,
) -> list[OutboxMessage]:
    """Queue a notification for every recipient of ``recipient_role`` on its channel.

    The channel is the first of the school's route for the role (or ``channel`` when a
    fallback is being queued). Group channels (webhook, WeCom, DingTalk) get one row; personal
    channels (e-mail, SMS, in-app) one row per staff member holding the role. The same event
    never produces two notifications to the same recipient and channel (``dedup_key``).
    ``due_at`` (default ``now``) orders deliveries: an escalation step is queued as due when
    its step fell due, so steps that fire together after a clock jump go out in ladder order.
    """
    school = await db.get_one(School, school_id)
    route = await route_for(db, school, recipient_role)
    config = route.channels[0] if channel is None else channel_named(route, channel)
    if config is None:
        raise ValueError(f"no channel {channel!r} in the route of {recipient_role!r}")
    people: list[StaffUser | None] = [None]
    if config.address_kind is not None:
        people = list(await recipients(db, school, recipient_role)) or [None]
    queued: list[OutboxMessage] = []
    for person in people:
        key = f"{dedup_key}:{config.name}:{person.id if person else '-'}"
        existing = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
        if existing is not None:
            continue
        delivery_id = uuid.uuid4().hex
        payload: dict[str, object] = {
            "event": event,
            "delivery_id": delivery_id,
            "case_id": str(case_id) if case_id else None,
            "tier": tier,
            "school_id": str(school_id),
            "school": school.name,
            "timezone": school.timezone,
            "deadline": _iso(deadline),
            "action": "assess" if event.startswith("task.") else "acknowledge",
            "escalation_level": level,
            "recipient_role": recipient_role,
            "link": link,
            "created_at": _iso(now),
            **({"class": class_name} if class_name else {}),
            **(extra or {}),
        }
        message = OutboxMessage(
            delivery_id=delivery_id,
            dedup_key=key,
            case_id=case_id,
            school_id=school_id,
            event=event,
            channel=config.name,
            recipient_role=recipient_role,
            recipient_user_id=person.id if person else None,
            tier=tier,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=min(due_at, now) if due_at is not None else now,
        )
        db.add(message)
        queued.append(message)
    return queued


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
    channel: str | None = None,
    due_at: datetime | None = None,
    subject: str | None = None,
) -> list[OutboxMessage]:
    """Queue a notification about ``case``; the same (case, event, level, role, subject) is
    queued at most once per recipient and channel, so retried sweeps never double-notify."""
    key = f"{case.id}:{event}:{level}:{recipient_role}"
    student = await db.get_one(Student, case.student_id)
    klass = await db.get_one(SchoolClass, student.class_id)
    return await enqueue(
        db,
        school_id=case.school_id,
        case_id=case.id,
        tier=case.tier,
        event=event,
        level=level,
        recipient_role=recipient_role,
        deadline=deadline,
        link=f"{base_url.rstrip('/')}/api/v1/cases/{case.id}",
        dedup_key=f"{key}:{subject}" if subject else key,
        now=now,
        channel=channel,
        due_at=due_at,
        extra={"task_id": subject} if subject else None,
        class_name=klass.name,
    )
