"""JSON export of everything held about one student (issue 19, data rights)."""

from __future__ import annotations

import uuid

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath

from survey_service.cases import export
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser


@get(
    "/api/v1/students/{student_id:uuid}/export",
    tags=["care"],
    summary="Everything held about one student (counsellor or school lead; audited)",
    opt={"permission": "students.export"},
)
async def student_export(
    student_id: FromPath[uuid.UUID],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
) -> export.StudentExport:
    """Student, guardians, consents, codes (digests withheld), sessions, responses with
    answers, scores, triage records, cases with events and tasks, plans, observations,
    referrals, care records, incidents, care group, notifications and audit rows about them."""
    return await export.student_export(db, staff, student_id, now=clock.now())


ROUTES = [student_export]
