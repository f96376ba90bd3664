"""The case queue over the JSON API: open cases in my scope, one case, acknowledging it."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from survey_service.cases import service as cases
from survey_service.cases.schemas import AcknowledgeRequest, CaseDetail, CaseList, CaseOut
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser


@get(
    "/api/v1/cases",
    tags=["cases"],
    summary="Open cases in my scope, by deadline then tier",
    opt={"permission": "cases.list"},
)
async def list_cases(
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> CaseList:
    return await cases.list_cases(db, staff, now=clock.now())


@get(
    "/api/v1/cases/{case_id:uuid}",
    tags=["cases"],
    summary="One case with tasks and history",
    opt={"permission": "cases.read"},
)
async def get_case(
    case_id: FromPath[uuid.UUID],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> CaseDetail:
    return await cases.case_detail(db, staff, case_id, now=clock.now())


@post(
    "/api/v1/cases/{case_id:uuid}/acknowledge",
    tags=["cases"],
    summary="Acknowledge a case (stops its escalation)",
    status_code=200,
    opt={"permission": "cases.acknowledge"},
)
async def acknowledge(
    case_id: FromPath[uuid.UUID],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
    data: JSONBody[AcknowledgeRequest | None] = None,
) -> CaseOut:
    return await cases.acknowledge(
        db, staff, case_id, note=data.note if data else None, now=clock.now()
    )


ROUTES = [list_cases, get_case, acknowledge]
