"""School settings endpoints: the school calendar per school year."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ..clock import Clock
from ..db import AsyncSession, StaffUser
from ..services import calendars


class CalendarOut(msgspec.Struct, frozen=True):
    school_code: str
    label: str
    first_day: str
    last_day: str
    updated_at: datetime


@put(
    "/api/v1/schools/{school_code:str}/calendars/{label:str}",
    tags=["schools"],
    status_code=200,
    summary="Set a school year's calendar (terms, exams, holidays, 调休)",
)
async def calendar_put(
    school_code: FromPath[str],
    label: FromPath[str],
    data: JSONBody[calendars.CalendarDocument],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> CalendarOut:
    row = await calendars.put_calendar(db, staff, school_code, label, data, now=clock.now())
    return CalendarOut(
        school_code=school_code,
        label=row.label,
        first_day=row.first_day.isoformat(),
        last_day=row.last_day.isoformat(),
        updated_at=row.updated_at,
    )


ROUTES = [calendar_put]
