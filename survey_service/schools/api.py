"""School settings endpoints: the school calendar per school year, the on-call rota."""

from __future__ import annotations

from typing import Any

from litestar import get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from survey_service.api.params import CalendarLabel, SchoolCode
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.notifications import on_call
from survey_service.schemas import Code
from survey_service.schools import calendars
from survey_service.schools.schemas import CalendarOut


@put(
    "/api/v1/schools/{school_code:str}/calendars/{label:str}",
    tags=["schools"],
    status_code=200,
    summary="Set a school year's calendar (terms, exams, holidays, 调休)",
    opt={"permission": "calendars.edit"},
)
async def calendar_put(
    school_code: SchoolCode,
    label: CalendarLabel,
    data: JSONBody[calendars.CalendarDocument],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> CalendarOut:
    return await calendars.put_calendar(db, staff, school_code, label, data, now=clock.now())


@get(
    "/api/v1/schools/{school_code:str}/on-call",
    tags=["schools"],
    summary="The school's on-call rota for suicide-pathway cases outside school hours",
    opt={"permission": "rota.read"},
)
async def on_call_get(
    school_code: SchoolCode, db: NamedDependency[AsyncSession], staff: NamedDependency[StaffUser]
) -> on_call.OnCallOut:
    return await on_call.get_on_call(db, staff, school_code)


@put(
    "/api/v1/schools/{school_code:str}/on-call",
    tags=["schools"],
    status_code=200,
    summary="Set the school's on-call rota (who, which channel, which hours)",
    opt={"permission": "rota.edit"},
)
async def on_call_put(
    school_code: SchoolCode,
    data: JSONBody[dict[Code, Any]],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> on_call.OnCallOut:
    return await on_call.put_on_call(db, staff, school_code, data, now=clock.now())


ROUTES = [calendar_put, on_call_get, on_call_put]
