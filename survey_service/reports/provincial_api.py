"""The provincial aggregate export over the API (issue 15): the district officer downloads
their district's school year as JSON or CSV (``docs/provincial-export.md``); audited."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.reports import provincial


@get(
    "/api/v1/district/provincial-export",
    tags=["reports"],
    summary="The district's school year as de-identified, suppressed counts (JSON or CSV)",
    description="Every count is 0, at least 5, or null with a suppressed flag; the JSON "
    "follows docs/schemas/provincial-export.schema.json. `year` defaults to the current "
    "school year (e.g. 2026-2027); `format` is json (default) or csv. Audited as "
    "export.download.",
    opt={"permission": provincial.OPERATION},
)
async def provincial_export(
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
    year: FromQuery[str | None] = None,
    format: FromQuery[str] = "json",
) -> Response[bytes]:
    export = await provincial.district_export(db, staff, year=year, fmt=format, now=clock.now())
    return Response(
        export.body,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES: list[Any] = [provincial_export]
