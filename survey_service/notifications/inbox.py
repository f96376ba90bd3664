"""The in-app notification queue of a staff member, and operator alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import scope_filter
from survey_service.db import AsyncSession, InboxItem, OperatorAlert, StaffUser
from survey_service.errors import NotFound


class InboxItemOut(msgspec.Struct, frozen=True):
    item_id: uuid.UUID
    event: str
    content: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class AlertOut(msgspec.Struct, frozen=True):
    alert_id: uuid.UUID
    at: datetime
    kind: str
    school_id: uuid.UUID | None
    detail: str
    resolved_at: datetime | None


async def my_notifications(
    db: AsyncSession, user: StaffUser, *, unread_only: bool
) -> list[InboxItemOut]:
    """The caller's in-app notifications, newest first."""
    permissions.require(user, "inbox.own")
    query = select(InboxItem).where(InboxItem.user_id == user.id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    rows = (await db.scalars(query.order_by(InboxItem.created_at.desc()).limit(200))).all()
    return [InboxItemOut(r.id, r.event, r.content, r.created_at, r.read_at) for r in rows]


async def mark_read(
    db: AsyncSession, user: StaffUser, item_id: uuid.UUID, *, now: datetime
) -> InboxItemOut:
    permissions.require(user, "inbox.own")
    item = await db.get(InboxItem, item_id)
    if item is None or item.user_id != user.id:
        raise NotFound("No such notification", code="notification_not_found")
    if item.read_at is None:
        item.read_at = now
    return InboxItemOut(item.id, item.event, item.content, item.created_at, item.read_at)


async def operator_alerts(db: AsyncSession, user: StaffUser) -> list[AlertOut]:
    """Unresolved delivery failures in the caller's school (or district)."""
    permissions.require(user, "alerts.read")
    query = select(OperatorAlert).where(
        OperatorAlert.resolved_at.is_(None),
        scope_filter(user, school_id=OperatorAlert.school_id),
    )
    rows = (await db.scalars(query.order_by(OperatorAlert.at.desc()).limit(500))).all()
    return [AlertOut(r.id, r.at, r.kind, r.school_id, r.detail, r.resolved_at) for r in rows]
