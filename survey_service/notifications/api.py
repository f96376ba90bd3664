"""Notification endpoints: channel routes per school, my in-app queue, operator alerts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from survey_service.api.params import SchoolCode
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.notifications import inbox, routing
from survey_service.schemas import Code

Db = NamedDependency[AsyncSession]
Staff = NamedDependency[StaffUser]
Now = NamedDependency[Clock]


@put(
    "/api/v1/schools/{school_code:str}/notification-routes",
    tags=["notifications"],
    status_code=200,
    summary="Set the school's channels per role, with fallbacks",
    opt={"permission": "routes.edit"},
)
async def routes_put(
    school_code: SchoolCode, data: JSONBody[dict[Code, Any]], db: Db, staff: Staff, clock: Now
) -> routing.RoutesOut:
    return await routing.put_school_routes(db, staff, school_code, data, now=clock.now())


@get(
    "/api/v1/me/notifications",
    tags=["notifications"],
    summary="My in-app notifications",
    opt={"permission": "inbox.own"},
)
async def my_notifications(
    db: Db, staff: Staff, unread: FromQuery[bool] = False
) -> list[inbox.InboxItemOut]:
    return await inbox.my_notifications(db, staff, unread_only=unread)


@post(
    "/api/v1/me/notifications/{item_id:uuid}/read",
    tags=["notifications"],
    status_code=200,
    summary="Mark one in-app notification read",
    opt={"permission": "inbox.own"},
)
async def notification_read(
    item_id: FromPath[uuid.UUID], db: Db, staff: Staff, clock: Now
) -> inbox.InboxItemOut:
    return await inbox.mark_read(db, staff, item_id, now=clock.now())


@get(
    "/api/v1/operator/alerts",
    tags=["notifications"],
    summary="Deliveries that failed for good on a channel (unresolved)",
    opt={"permission": "alerts.read"},
)
async def alerts(db: Db, staff: Staff) -> list[inbox.AlertOut]:
    return await inbox.operator_alerts(db, staff)


ROUTES = [routes_put, my_notifications, notification_read, alerts]
