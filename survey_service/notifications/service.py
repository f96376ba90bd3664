"""Writing notifications into the outbox, inside the transaction of the event that causes them.

A notification carries the minimum: event, tier, school, deadline, a link. Never answers, scores
or the student's name (DESIGN.md, "Notifications and escalation").
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from survey_service.accounts.views import role_shows_identity
from survey_service.db import (
    AsyncSession,
    Case,
    OutboxMessage,
    School,
    SchoolClass,
    StaffUser,
    Student,
)
from survey_service.notifications.on_call import on_call_picks
from survey_service.notifications.routing import channel_named, recipients, route_for
from triage.channels import ON_CALL_ROLE, needs_on_call


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
        message = await _add_row(
            db,
            school=school,
            case_id=case_id,
            tier=tier,
            event=event,
            level=level,
            recipient_role=recipient_role,
            channel=config.name,
            person_id=person.id if person else None,
            deadline=deadline,
            link=link,
            dedup_key=dedup_key,
            now=now,
            due_at=due_at,
            extra=extra,
            # The class only to roles that see identities: never to the district (issue 19).
            class_name=class_name if role_shows_identity(recipient_role) else None,
        )
        if message is not None:
            queued.append(message)
    return queued


async def _add_row(
    db: AsyncSession,
    *,
    school: School,
    case_id: uuid.UUID | None,
    tier: str | None,
    event: str,
    level: int,
    recipient_role: str,
    channel: str,
    person_id: uuid.UUID | None,
    deadline: datetime,
    link: str,
    dedup_key: str,
    now: datetime,
    due_at: datetime | None,
    extra: dict[str, str] | None,
    class_name: str | None,
) -> OutboxMessage | None:
    """One outbox row, unless the same (event, channel, recipient) is queued already."""
    key = f"{dedup_key}:{channel}:{person_id or '-'}"
    existing = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
    if existing is not None:
        return None
    delivery_id = uuid.uuid4().hex
    payload: dict[str, object] = {
        "event": event,
        "delivery_id": delivery_id,
        "case_id": str(case_id) if case_id else None,
        "tier": tier,
        "school_id": str(school.id),
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
        school_id=school.id,
        event=event,
        channel=channel,
        recipient_role=recipient_role,
        recipient_user_id=person_id,
        tier=tier,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=min(due_at, now) if due_at is not None else now,
    )
    db.add(message)
    return message


async def enqueue_on_call(
    db: AsyncSession,
    *,
    case: Case,
    event: str,
    level: int,
    deadline: datetime,
    link: str,
    dedup_key: str,
    now: datetime,
    class_name: str | None,
    already: list[OutboxMessage],
) -> list[OutboxMessage]:
    """Page the on-call rota about a red or orange suicide-pathway case outside school hours.

    The one seam of issue 11: ``triage.channels.on_call_recipients`` decides who (nobody
    inside school hours); each member gets one row on their rota channel, with the same
    minimal payload (``recipient_role`` ``on_call``). A member already told on that channel by
    the usual route (``already``) is not told twice.
    """
    if not needs_on_call(case.tier, case.pathway):
        return []
    school = await db.get_one(School, case.school_id)
    taken = {(m.channel, m.recipient_user_id) for m in already}
    taken |= {(m.channel, None) for m in already if m.recipient_user_id is None}
    picks = await on_call_picks(db, school, now=now)
    if not picks:
        return []
    route = await route_for(db, school, ON_CALL_ROLE)
    queued: list[OutboxMessage] = []
    for pick in picks:
        config = channel_named(route, pick.channel)
        if config is None:
            continue
        person_id = uuid.UUID(pick.user_id) if config.address_kind is not None else None
        if (config.name, person_id) in taken:
            continue
        taken.add((config.name, person_id))
        message = await _add_row(
            db,
            school=school,
            case_id=case.id,
            tier=case.tier,
            event=event,
            level=level,
            recipient_role=ON_CALL_ROLE,
            channel=config.name,
            person_id=person_id,
            deadline=deadline,
            link=link,
            dedup_key=f"{dedup_key}:{ON_CALL_ROLE}",
            now=now,
            due_at=None,
            extra=None,
            class_name=class_name if role_shows_identity(pick.role) else None,
        )
        if message is not None:
            queued.append(message)
    return queued


async def requeue_on_call(
    db: AsyncSession, row: OutboxMessage, *, channel: str, now: datetime
) -> OutboxMessage | None:
    """Queue a failed on-call page again on ``channel`` for the same member (its fallback)."""
    school = await db.get_one(School, row.school_id)
    payload = row.payload
    deadline = payload.get("deadline")
    return await _add_row(
        db,
        school=school,
        case_id=row.case_id,
        tier=row.tier,
        event=row.event,
        level=int(str(payload.get("escalation_level", 0))),
        recipient_role=ON_CALL_ROLE,
        channel=channel,
        person_id=row.recipient_user_id,
        deadline=datetime.fromisoformat(deadline.replace("Z", "+00:00"))
        if isinstance(deadline, str)
        else now,
        link=str(payload.get("link", "")),
        dedup_key=row.dedup_key.rsplit(":", 2)[0],
        now=now,
        due_at=None,
        extra=None,
        class_name=payload["class"] if isinstance(payload.get("class"), str) else None,
    )


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
    link = f"{base_url.rstrip('/')}/staff/cases/{case.id}"
    dedup_key = f"{key}:{subject}" if subject else key
    queued = await enqueue(
        db,
        school_id=case.school_id,
        case_id=case.id,
        tier=case.tier,
        event=event,
        level=level,
        recipient_role=recipient_role,
        deadline=deadline,
        link=link,
        dedup_key=dedup_key,
        now=now,
        channel=channel,
        due_at=due_at,
        extra={"task_id": subject} if subject else None,
        class_name=klass.name,
    )
    if channel is None and event.startswith("case."):
        # Outside school hours a suicide-pathway case also pages the on-call rota (issue 11).
        queued += await enqueue_on_call(
            db,
            case=case,
            event=event,
            level=level,
            deadline=deadline,
            link=link,
            dedup_key=dedup_key,
            now=now,
            class_name=klass.name,
            already=queued,
        )
    return queued
