"""Audit log endpoints for the auditor: filter and page through the log, export it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from survey_service.audit import service
from survey_service.audit.schemas import AuditPage
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser

Db = NamedDependency[AsyncSession]
Staff = NamedDependency[StaffUser]
Now = NamedDependency[Clock]
Text = FromQuery[str | None]


@get(
    "/api/v1/audit",
    tags=["audit"],
    summary="The district's audit log, newest first",
    opt={"permission": "audit.read"},
)
async def audit_list(
    db: Db,
    staff: Staff,
    clock: Now,
    since: Annotated[str | None, QueryParameter(name="from")] = None,
    to: Text = None,
    actor: Text = None,
    action: Text = None,
    school: Text = None,
    subject: Text = None,
    cursor: Text = None,
    limit: FromQuery[int] = 100,
) -> AuditPage:
    raw = {"from": since, "to": to, "actor": actor, "action": action, "school": school,
           "subject": subject, "cursor": cursor}  # fmt: skip
    filters = service.parse_filters(raw, limit=limit)
    return await service.list_entries(db, staff, filters, now=clock.now())


@get(
    "/api/v1/audit/export",
    tags=["audit"],
    summary="Export the filtered audit log (CSV, JSON)",
    opt={"permission": "audit.export"},
)
async def audit_export(
    db: Db,
    staff: Staff,
    clock: Now,
    format: FromQuery[str] = "csv",
    since: Annotated[str | None, QueryParameter(name="from")] = None,
    to: Text = None,
    actor: Text = None,
    action: Text = None,
    school: Text = None,
    subject: Text = None,
) -> Response[bytes]:
    raw = {"from": since, "to": to, "actor": actor, "action": action, "school": school,
           "subject": subject}  # fmt: skip
    filters = service.parse_filters(raw)
    export = await service.export_entries(db, staff, filters, format, now=clock.now())
    return Response(
        export.body,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES: list[Any] = [audit_list, audit_export]
