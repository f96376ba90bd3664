"""The care group of a case (checklist item 13): who is in it, in which role; and the
transfer of the case's student to another school of the district, after which the former
school's staff leave the group.

The group follows ``triage.check_care_group`` as far as it can be kept while it is being
built up one member at a time: at most one head teacher and one peer supporter, and once the
group has a counsellor (or a guardian contact) the last one stays until another joins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope, schools_in_scope
from survey_service.accounts.views import lens_for, lens_of
from survey_service.cases import student_file
from survey_service.cases import views as care_views
from survey_service.cases.events import case_event
from survey_service.cases.schemas import MemberOut
from survey_service.db import (
    AsyncSession,
    CareGroupMember,
    Case,
    Guardian,
    School,
    SchoolClass,
    StaffUser,
    Student,
)
from survey_service.errors import Conflict, NotFound, Unprocessable

STAFF_ROLES = {"counsellor", "head_teacher", "teacher", "school_lead"}
MEMBER_ROLES = STAFF_ROLES | {"guardian", "peer_supporter"}
#: Roles a group has at most one of, and roles whose last member stays (check_care_group).
ONLY_ONE = {"head_teacher", "peer_supporter"}
MUST_STAY = {"counsellor", "guardian"}
#: The order the page lists members and staff in.
ROLE_ORDER = ("counsellor", "head_teacher", "teacher", "school_lead", "guardian", "peer_supporter")

_ROLE_ZH = {
    "counsellor": "心理老师",
    "head_teacher": "班主任",
    "teacher": "任课老师",
    "school_lead": "分管校领导",
    "guardian": "监护人",
    "peer_supporter": "心理委员",
}


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
            message={
                "zh-CN": "请选择关爱小组中的身份："
                + "、".join(_ROLE_ZH[r] for r in ROLE_ORDER)
                + "。",
                "en": "Choose the role in the care group: " + ", ".join(ROLE_ORDER) + ".",
            },
        )
    given = [x for x in (staff_id, guardian_id, student_id) if x is not None]
    if len(given) != 1:
        raise Unprocessable(
            "give exactly one of staff_id, guardian_id, student_id",
            code="invalid_member",
            message={
                "zh-CN": "请选择一位要加入关爱小组的人。",
                "en": "Choose one person to add to the care group.",
            },
        )
    if role in STAFF_ROLES:
        member_staff = await db.get(StaffUser, staff_id) if staff_id else None
        if member_staff is None or member_staff.school_id != case.school_id:
            raise NotFound(
                "No such staff member in this school",
                code="staff_not_found",
                message={
                    "zh-CN": "请从本校的教职工中选择。",
                    "en": "Choose a staff member of this school for a staff role.",
                },
            )
    elif role == "guardian":
        guardian = await db.get(Guardian, guardian_id) if guardian_id else None
        if guardian is None or guardian.student_id != case.student_id:
            raise NotFound(
                "No such guardian of this student",
                code="guardian_not_found",
                message={
                    "zh-CN": "请从这名学生的监护人中选择。",
                    "en": "Choose one of this student's guardians.",
                },
            )
    else:
        peer = await db.get(Student, student_id) if student_id else None
        if peer is None or peer.school_id != case.school_id or peer.id == case.student_id:
            raise NotFound(
                "No such classmate in this school",
                code="student_not_found",
                message={
                    "zh-CN": "心理委员须是本校的另一名学生。",
                    "en": "A peer supporter must be another student of this school.",
                },
            )
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
            "This person is already in the care group in that role",
            code="already_member",
            message={
                "zh-CN": "这个人已经以这个身份在关爱小组中了。",
                "en": "This person is already in the care group in that role.",
            },
        )
    if role in ONLY_ONE and await _count(db, case.id, role):
        raise Conflict(
            f"a care group has at most one {role}; remove the current one first",
            code=f"one_{role}",
            message={
                "zh-CN": f"关爱小组只能有一位{_ROLE_ZH[role]}：请先移除现在的{_ROLE_ZH[role]}。",
                "en": f"A care group has one {role.replace('_', ' ')}: remove the current one "
                "first.",
            },
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
        raise NotFound(
            "No such care group member",
            code="member_not_found",
            message={
                "zh-CN": "关爱小组中没有这位成员（可能已被移除）。",
                "en": "No such member of the care group (perhaps removed already).",
            },
        )
    if member.role in MUST_STAY and await _count(db, case.id, member.role) <= 1:
        raise Conflict(
            f"the last {member.role} of a care group stays; add another one first",
            code=f"last_{member.role}",
            message={
                "zh-CN": f"关爱小组至少要有一位{_ROLE_ZH[member.role]}："
                f"请先加入另一位{_ROLE_ZH[member.role]}，再移除这一位。",
                "en": f"A care group keeps at least one {member.role}: add another one first, "
                "then remove this one.",
            },
        )
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


async def _count(db: AsyncSession, case_id: uuid.UUID, role: str) -> int:
    """Current members of the case's group in ``role``."""
    rows = await db.scalars(
        select(CareGroupMember.id).where(
            CareGroupMember.case_id == case_id,
            CareGroupMember.role == role,
            CareGroupMember.removed_at.is_(None),
        )
    )
    return len(rows.all())


# --- the care group on the case page ----------------------------------------------------------


@dataclass(frozen=True)
class GroupMember:
    """A current member as the case page lists it: the role and the person's display name
    (a guardian with the relation)."""

    member_id: uuid.UUID
    role: str
    name: str


@dataclass(frozen=True)
class Person:
    """Someone who could join: ``detail`` is a staff member's account role, a guardian's
    relation to the student, empty for a classmate."""

    person_id: uuid.UUID
    name: str
    detail: str


@dataclass(frozen=True)
class GroupPage:
    """The group of one case for the page, and, for a caller who may edit it, whom the
    service would accept: the school's staff, the student's guardians and the class's
    psychology committee members (peer supporters)."""

    members: list[GroupMember]
    can_edit: bool
    staff: list[Person]
    guardians: list[Person]
    peers: list[Person]


async def group_page(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, *, now: datetime
) -> GroupPage:
    """The care group of a case in the caller's scope, with names. Read without identities
    (the district's view) it lists the staff of the group only, and offers no choices."""
    permissions.require(user, "care_group.read")
    case = await case_in_scope(db, user, case_id)
    lens = await lens_for(db, user, now=now, case_id=case.id)
    found = await members(db, case.id)
    if not lens.identity:
        found = [m for m in found if m.staff_id is not None]
    names: dict[uuid.UUID, str] = {}
    staff_ids = [m.staff_id for m in found if m.staff_id]
    guardian_ids = [m.guardian_id for m in found if m.guardian_id]
    student_ids = [m.student_id for m in found if m.student_id]
    if staff_ids:
        for u in (await db.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))).all():
            names[u.id] = u.display_name
    if guardian_ids:
        for g in (await db.scalars(select(Guardian).where(Guardian.id.in_(guardian_ids)))).all():
            names[g.id] = f"{g.name}（{g.relation}）"
    if student_ids:
        for s in (await db.scalars(select(Student).where(Student.id.in_(student_ids)))).all():
            names[s.id] = s.name
    listed = [
        GroupMember(
            member_id=m.member_id,
            role=m.role,
            name=names.get(m.staff_id or m.guardian_id or m.student_id or m.member_id, "—"),
        )
        for m in found
    ]
    listed.sort(key=lambda m: ROLE_ORDER.index(m.role) if m.role in ROLE_ORDER else len(ROLE_ORDER))
    can_edit = lens.identity and permissions.allowed(user.role, "care_group.edit")
    if not can_edit:
        return GroupPage(members=listed, can_edit=False, staff=[], guardians=[], peers=[])
    staff = (
        await db.scalars(
            select(StaffUser)
            .where(
                StaffUser.school_id == case.school_id,
                StaffUser.active.is_(True),
                StaffUser.role.in_(STAFF_ROLES),
            )
            .order_by(StaffUser.display_name, StaffUser.username)
        )
    ).all()
    guardians = (
        await db.scalars(
            select(Guardian).where(Guardian.student_id == case.student_id).order_by(Guardian.name)
        )
    ).all()
    student = await db.get_one(Student, case.student_id)
    peers = (
        await db.scalars(
            select(Student)
            .where(
                Student.class_id == student.class_id,
                Student.psychology_committee.is_(True),
                Student.status == "active",
                Student.id != student.id,
            )
            .order_by(Student.name)
        )
    ).all()
    return GroupPage(
        members=listed,
        can_edit=True,
        staff=[
            Person(person_id=u.id, name=u.display_name, detail=u.role)
            for u in sorted(staff, key=lambda u: ROLE_ORDER.index(u.role))
        ],
        guardians=[Person(person_id=g.id, name=g.name, detail=g.relation) for g in guardians],
        peers=[Person(person_id=s.id, name=s.name, detail="") for s in peers],
    )


# --- transfer to another school of the district -----------------------------------------------


@dataclass(frozen=True)
class TransferClass:
    class_id: uuid.UUID
    grade: int
    name: str


@dataclass(frozen=True)
class TransferSchool:
    """A school of the district the case's student could move to, with its classes."""

    code: str
    name: str
    classes: list[TransferClass]


@dataclass(frozen=True)
class TransferOptions:
    """The school the case is at now, and the district's other schools to move it to."""

    from_school: str
    schools: list[TransferSchool]


@dataclass(frozen=True)
class TransferDone:
    """Which school the student went to (not the class: the district's page shows it), and
    how many members of the former school left the care group."""

    school_code: str
    school_name: str
    left_group: int


async def transfer_options(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID
) -> TransferOptions:
    """The other schools of the caller's district, with their classes, for the transfer of
    the case's student (district officer). Names no student."""
    permissions.require(user, "students.transfer")
    case = await case_in_scope(db, user, case_id)
    in_scope = await schools_in_scope(db, user)
    current = next((s.name for s in in_scope if s.id == case.school_id), "")
    schools = [s for s in in_scope if s.id != case.school_id]
    by_school: dict[uuid.UUID, list[TransferClass]] = {s.id: [] for s in schools}
    if schools:
        rows = await db.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id.in_(list(by_school)))
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
        for k in rows.all():
            by_school[k.school_id].append(TransferClass(class_id=k.id, grade=k.grade, name=k.name))
    return TransferOptions(
        from_school=current,
        schools=[
            TransferSchool(code=s.code, name=s.name, classes=by_school[s.id]) for s in schools
        ],
    )


async def transfer_case(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    school_code: str,
    class_id: uuid.UUID,
    now: datetime,
) -> TransferDone:
    """Transfer the case's student to a class of another school of the district
    (``student_file.transfer_student``: the file and open cases follow). The former school's
    staff and classmates leave the care groups of the student's open cases (they no longer
    reach the case; the new school builds its own group); guardians stay."""
    permissions.require(user, "students.transfer")
    case = await case_in_scope(db, user, case_id)
    school = await db.scalar(select(School).where(School.code == school_code))
    if school is not None and school.id == case.school_id:
        raise Unprocessable(
            "the student is already at this school; choose another school",
            code="same_school",
            message={
                "zh-CN": "学生已经在这所学校了：请选择本区的另一所学校。",
                "en": "The student is already at this school: choose another school.",
            },
        )
    moved = await student_file.transfer_student(
        db, user, case.student_id, school_code=school_code, class_id=class_id, now=now
    )
    open_cases = (
        await db.scalars(
            select(Case.id).where(Case.student_id == case.student_id, Case.status != "closed")
        )
    ).all()
    left = 0
    if open_cases:
        leaving = (
            await db.scalars(
                select(CareGroupMember).where(
                    CareGroupMember.case_id.in_(list(open_cases)),
                    CareGroupMember.removed_at.is_(None),
                    CareGroupMember.guardian_id.is_(None),
                )
            )
        ).all()
        for member in leaving:
            member.removed_at = now
            left += 1
            db.add(
                case_event(
                    member.case_id,
                    "care_group.removed",
                    at=now,
                    actor_id=user.id,
                    data={"role": member.role, "reason": "transferred"},
                )
            )
    target = await db.get_one(School, moved.school_id)
    return TransferDone(school_code=target.code, school_name=target.name, left_group=left)
