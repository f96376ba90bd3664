"""The district's case endpoints: counts per school, and the break-glass read of one case."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from survey_service.cases import break_glass, district, student_file
from survey_service.cases.schemas import (
    BreakGlassOut,
    BreakGlassRequest,
    DistrictCaseSummary,
    StudentOut,
    TransferByNumberRequest,
)
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.services.runtime import Runtime


@get(
    "/api/v1/district/case-summary",
    tags=["cases"],
    summary="Open cases, overdue acknowledgements and pending incident reviews per school",
    opt={"permission": "cases.district_summary"},
)
async def case_summary(
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> DistrictCaseSummary:
    return await district.case_summary(db, staff, now=clock.now())


@post(
    "/api/v1/cases/{case_id:uuid}/break-glass",
    tags=["cases"],
    summary="Open one case's student identities for a while, with a stated reason (district)",
    opt={"permission": "cases.break_glass"},
)
async def open_break_glass(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[BreakGlassRequest],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
    rt: NamedDependency[Runtime],
) -> BreakGlassOut:
    return await break_glass.open_grant(
        db,
        staff,
        case_id,
        reason=data.reason,
        minutes=rt.settings.break_glass_minutes,
        base_url=rt.settings.base_url,
        now=clock.now(),
    )


@post(
    "/api/v1/students/transfer",
    tags=["care"],
    status_code=200,
    summary="Transfer a student named by school code and student number (district)",
    opt={"permission": "students.transfer"},
)
async def transfer_by_number(
    data: JSONBody[TransferByNumberRequest],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> StudentOut:
    return await student_file.transfer_by_number(
        db,
        staff,
        from_school_code=data.from_school_code,
        student_number=data.student_number,
        school_code=data.school_code,
        class_id=data.class_id,
        now=clock.now(),
    )


ROUTES = [case_summary, open_break_glass, transfer_by_number]
