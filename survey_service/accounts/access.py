"""Who may touch what: object-level scoping and role checks shared by the care services.

A record outside the caller's scope answers 404 (never confirm that it exists); a role that
may not perform an action answers 403.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from survey_service.db import AsyncSession, Case, School, SchoolClass, StaffUser, Student
from survey_service.errors import Forbidden, NotFound

CARE_STAFF = {"counsellor", "school_lead"}
CASE_READERS = {"counsellor", "school_lead", "district_officer"}
OBSERVERS = {"counsellor", "school_lead", "head_teacher", "teacher"}


def require_role(user: StaffUser, allowed: set[str], action: str) -> None:
    if user.role not in allowed:
        raise Forbidden(
            f"The role {user.role!r} may not {action} (allowed: {', '.join(sorted(allowed))})",
            code="forbidden_role",
        )


async def student_in_scope(db: AsyncSession, user: StaffUser, student_id: uuid.UUID) -> Student:
    """The student, if the caller's school (or district, or class for a head teacher) holds it."""
    student = await db.get(Student, student_id)
    if student is None:
        raise NotFound("No such student", code="student_not_found")
    if user.role in {"district_officer", "auditor"}:
        school = await db.get_one(School, student.school_id)
        if school.district_id != user.district_id:
            raise NotFound("No such student", code="student_not_found")
        return student
    if user.school_id != student.school_id:
        raise NotFound("No such student", code="student_not_found")
    if user.role == "head_teacher":
        klass = await db.get_one(SchoolClass, student.class_id)
        if klass.head_teacher_id != user.id:
            raise NotFound("No such student", code="student_not_found")
    return student


async def case_in_scope(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """The case, if it belongs to the caller's school (or district)."""
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    case = await db.scalar(query)
    if case is None:
        raise NotFound("No such case", code="case_not_found")
    if user.role in {"district_officer", "auditor"}:
        school = await db.get_one(School, case.school_id)
        if school.district_id != user.district_id:
            raise NotFound("No such case", code="case_not_found")
    elif user.school_id != case.school_id:
        raise NotFound("No such case", code="case_not_found")
    return case


async def schools_in_scope(db: AsyncSession, user: StaffUser) -> list[School]:
    """The schools the caller's reads cover: a district officer's district (by school code),
    else the caller's own school; an account with neither sees none."""
    if user.role == "district_officer":
        return list(
            (
                await db.scalars(
                    select(School)
                    .where(School.district_id == user.district_id)
                    .order_by(School.code)
                )
            ).all()
        )
    return [await db.get_one(School, user.school_id)] if user.school_id else []
