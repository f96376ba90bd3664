"""The care group of a case (checklist item 13): who is in it, in which role."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope
from survey_service.accounts.views import lens_of
from survey_service.cases import views as care_views
from survey_service.cases.events import case_event
from survey_service.cases.schemas import MemberOut
from survey_service.db import AsyncSession, CareGroupMember, Guardian, StaffUser, Student
from survey_service.errors import Conflict, NotFound, Unprocessable

STAFF_ROLES = {"counsellor", "head_teacher", "teacher", "school_lead"}
MEMBER_ROLES = STAFF_ROLES | {"guardian", "peer_supporter"}


async def add_member(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    role: str,
    staff_id: uuid.UUID | None,
    guardian_id: uuid.UUID | None,
    student_id: uuid.UUID | None,
    now: datetime,
) -> MemberOut:
    """Add a staff member, a guardian or a peer supporter (a classmate) to the care group."""
    permissions.require(user, "care_group.edit")
    case = await case_in_scope(db, user, case_id)
    if role not in MEMBER_ROLES:
        raise Unprocessable(
            f"role must be one of {', '.join(sorted(MEMBER_ROLES))} (got {role!r})",
            code="invalid_role",
        )
    given = [x for x in (staff_id, guardian_id, student_id) if x is not None]
    if len(given) != 1:
        raise Unprocessable(
            "give exactly one of staff_id, guardian_id, student_id", code="invalid_member"
        )
    if role in STAFF_ROLES:
        member_staff = await db.get(StaffUser, staff_id) if staff_id else None
        if member_staff is None or member_staff.school_id != case.school_id:
            raise NotFound("No such staff member in this school", code="staff_not_found")
    elif role == "guardian":
        guardian = await db.get(Guardian, guardian_id) if guardian_id else None
        if guardian is None or guardian.student_id != case.student_id:
            raise NotFound("No such guardian of this student", code="guardian_not_found")
    else:
        peer = await db.get(Student, student_id) if student_id else None
        if peer is None or peer.school_id != case.school_id or peer.id == case.student_id:
            raise NotFound("No such classmate in this school", code="student_not_found")
    duplicate = await db.scalar(
        select(CareGroupMember.id).where(
            CareGroupMember.case_id == case.id,
            CareGroupMember.removed_at.is_(None),
            CareGroupMember.role == role,
            CareGroupMember.staff_id.is_(staff_id)
            if staff_id is None
            else CareGroupMember.staff_id == staff_id,
            CareGroupMember.guardian_id.is_(guardian_id)
            if guardian_id is None
            else CareGroupMember.guardian_id == guardian_id,
            CareGroupMember.student_id.is_(student_id)
            if student_id is None
            else CareGroupMember.student_id == student_id,
        )
    )
    if duplicate is not None:
        raise Conflict(
            "This person is already in the care group in that role", code="already_member"
        )
    member = CareGroupMember(
        case_id=case.id,
        role=role,
        staff_id=staff_id,
        guardian_id=guardian_id,
        student_id=student_id,
        added_at=now,
        removed_at=None,
    )
    db.add(member)
    await db.flush()  # ids are assigned at flush; the reply carries it
    db.add(case_event(case.id, "care_group.added", at=now, actor_id=user.id, data={"role": role}))
    return care_views.member(member)


async def remove_member(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime
) -> None:
    permissions.require(user, "care_group.edit")
    case = await case_in_scope(db, user, case_id)
    member = await db.get(CareGroupMember, member_id)
    if member is None or member.case_id != case.id or member.removed_at is not None:
        raise NotFound("No such care group member", code="member_not_found")
    member.removed_at = now
    db.add(
        case_event(
            case.id, "care_group.removed", at=now, actor_id=user.id, data={"role": member.role}
        )
    )


async def members(db: AsyncSession, case_id: uuid.UUID) -> list[MemberOut]:
    """The current members of a case's care group, in the order they joined. No scope check:
    for a caller that has already read the case in scope (``list_members`` checks it)."""
    rows = await db.scalars(
        select(CareGroupMember)
        .where(CareGroupMember.case_id == case_id, CareGroupMember.removed_at.is_(None))
        .order_by(CareGroupMember.added_at)
    )
    return [care_views.member(m) for m in rows.all()]


async def list_members(db: AsyncSession, user: StaffUser, case_id: uuid.UUID) -> list[MemberOut]:
    """The care group of a case in the caller's scope."""
    permissions.require(user, "care_group.read")
    case = await case_in_scope(db, user, case_id)
    found = await members(db, case.id)
    if not lens_of(user).identity:
        # The aggregate view (district): the staff of the group, no guardian and no student.
        return [m for m in found if m.staff_id is not None]
    return found
