"""Object-level scoping: which students, cases, classes and schools an account reaches.

One rule for every query that touches a student or a case, driven by the role's scope in
``permissions.SCOPES``:

* ``district`` (district officer): every school of the account's district;
* ``school`` (counsellor, school lead, school admin, teacher): the account's school;
* ``class`` (head teacher): the account's school, and of its students and their cases only
  those of the classes the account is head teacher of;
* ``none`` (auditor): no student, case or school at all.

A record outside the caller's scope answers 404 with the same body as a missing one (never
confirm that it exists); whether a role may perform an operation at all is
``permissions.require`` (403).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select

from survey_service.accounts import permissions
from survey_service.accounts.permissions import Scope
from survey_service.db import AsyncSession, Campaign, Case, School, SchoolClass, StaffUser, Student
from survey_service.errors import NotFound

__all__ = [
    "campaign_in_scope",
    "case_in_scope",
    "class_in_scope",
    "school_in_scope",
    "schools_in_scope",
    "scope_filter",
    "scope_of",
    "student_in_scope",
]

scope_of = permissions.scope_of


def scope_filter(
    user: StaffUser,
    *,
    school_id: ColumnElement[uuid.UUID] | object,
    class_id: ColumnElement[uuid.UUID] | object | None = None,
) -> ColumnElement[bool]:
    """A SQL condition keeping only rows in the caller's scope.

    ``school_id`` is the row's school column; ``class_id`` its student's class column (give
    it wherever the rows are about students: a head teacher then sees only their classes; left
    out, a head teacher's scope is their school, as for school-level rows).
    """
    kind = scope_of(user)
    school_col: ColumnElement[uuid.UUID] = school_id  # type: ignore[assignment]
    if kind == "district":
        return school_col.in_(select(School.id).where(School.district_id == user.district_id))
    if kind == "none" or user.school_id is None:
        return false()
    own = school_col == user.school_id
    if kind == "class" and class_id is not None:
        class_col: ColumnElement[uuid.UUID] = class_id  # type: ignore[assignment]
        mine = select(SchoolClass.id).where(SchoolClass.head_teacher_id == user.id)
        return own & class_col.in_(mine)
    return own if kind in ("school", "class") else false()


async def _school_visible(db: AsyncSession, user: StaffUser, school_id: uuid.UUID) -> bool:
    kind: Scope = scope_of(user)
    if kind == "district":
        school = await db.get(School, school_id)
        return school is not None and school.district_id == user.district_id
    if kind == "none":
        return False
    return user.school_id is not None and user.school_id == school_id


async def _student_visible(db: AsyncSession, user: StaffUser, student: Student) -> bool:
    if not await _school_visible(db, user, student.school_id):
        return False
    if scope_of(user) == "class":
        klass = await db.get(SchoolClass, student.class_id)
        return klass is not None and klass.head_teacher_id == user.id
    return True


async def student_in_scope(db: AsyncSession, user: StaffUser, student_id: uuid.UUID) -> Student:
    """The student, if the caller's scope holds it; 404 ``student_not_found`` otherwise."""
    student = await db.get(Student, student_id)
    if student is None or not await _student_visible(db, user, student):
        raise NotFound("No such student", code="student_not_found")
    return student


async def case_in_scope(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """The case, if the caller's scope holds its student; 404 ``case_not_found`` otherwise."""
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    case = await db.scalar(query)
    if case is None or not await _school_visible(db, user, case.school_id):
        raise NotFound("No such case", code="case_not_found")
    if scope_of(user) == "class":
        student = await db.get_one(Student, case.student_id)
        klass = await db.get(SchoolClass, student.class_id)
        if klass is None or klass.head_teacher_id != user.id:
            raise NotFound("No such case", code="case_not_found")
    return case


async def class_in_scope(db: AsyncSession, user: StaffUser, class_id: uuid.UUID) -> SchoolClass:
    """The class, if the caller's scope holds it (a head teacher: their own classes)."""
    klass = await db.get(SchoolClass, class_id)
    if klass is None or not await _school_visible(db, user, klass.school_id):
        raise NotFound("No such class", code="class_not_found")
    if scope_of(user) == "class" and klass.head_teacher_id != user.id:
        raise NotFound("No such class", code="class_not_found")
    return klass


async def school_in_scope(db: AsyncSession, user: StaffUser, school_code: str) -> School:
    """The school with this code, if the caller's scope holds it; 404 ``school_not_found``."""
    school = await db.scalar(select(School).where(School.code == school_code))
    if school is None or not await _school_visible(db, user, school.id):
        raise NotFound(f"No school {school_code!r}", code="school_not_found")
    return school


async def campaign_in_scope(db: AsyncSession, user: StaffUser, campaign_id: uuid.UUID) -> Campaign:
    """The campaign, if the caller's scope holds its school; 404 ``campaign_not_found``."""
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None or not await _school_visible(db, user, campaign.school_id):
        raise NotFound("No such campaign", code="campaign_not_found")
    return campaign


async def schools_in_scope(db: AsyncSession, user: StaffUser) -> list[School]:
    """The schools the caller's reads cover, by code: a district officer's district, else the
    caller's own school; an account with neither (or an auditor) sees none."""
    query = select(School).where(scope_filter(user, school_id=School.id)).order_by(School.code)
    return list((await db.scalars(query)).all())
