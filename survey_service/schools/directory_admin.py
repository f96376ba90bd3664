"""The schools and classes administration pages' services (issue 13): a district officer lists
and adds the district's schools; a school lead or administrator lists and adds their school's
classes, names each class's head teacher and marks its psychology committee members (心理委员).

Actor-scoped wrappers around the operator's directory (``accounts.directory``, which the
command line uses): every check a page needs comes first, with a message in both languages
naming the field, so a refused form stores nothing; the write itself and its audit row (naming
the actor) are the directory's. Another district's school or another school's class answers
404 exactly like a missing one (``accounts.access``).

A district officer sees a class's counts, never its students' names (``accounts.views``: the
district's view is aggregate); every read of a class's student list is audited.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from survey_service.accounts import directory, permissions
from survey_service.accounts import views as field_views
from survey_service.accounts.access import class_in_scope, school_in_scope, schools_in_scope
from survey_service.accounts.permissions import Role
from survey_service.db import AsyncSession, District, School, SchoolClass, StaffUser, Student
from survey_service.errors import NotFound, Unprocessable
from survey_service.services import audit
from survey_service.services.paging import PER_PAGE, Paged, paginate

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Column sizes of ``schools`` and ``classes`` (``db._models``).
CODE_MAX, NAME_MAX, ROOM_MAX, CLASS_NAME_MAX = 32, 200, 300, 100
#: A school code is what people type in URLs and on the command line: letters, digits, - and _.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolSummary:
    """One school of the district with what it holds."""

    code: str
    name: str
    timezone: str
    counselling_room: str | None
    classes: int
    active_students: int
    staff_accounts: int  # active accounts of the school


@dataclass(frozen=True, slots=True)
class SchoolChoice:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ClassSummary:
    """One class as the classes page lists it."""

    class_id: uuid.UUID
    grade: int
    name: str
    head_teacher: str | None  # display name
    active_students: int
    committee_members: int


@dataclass(frozen=True, slots=True)
class HeadTeacherChoice:
    """An account the head-teacher select offers: both names, since display names repeat."""

    user_id: uuid.UUID
    display_name: str
    username: str


@dataclass(frozen=True, slots=True)
class StudentRow:
    student_id: uuid.UUID
    student_number: str
    name: str
    committee: bool


@dataclass(frozen=True, slots=True)
class SchoolsView:
    schools: Paged[SchoolSummary]
    search: str


@dataclass(frozen=True, slots=True)
class ClassesView:
    """The classes page: the school shown, the schools to choose from (district officer)."""

    school: SchoolChoice | None
    schools: Sequence[SchoolChoice]
    classes: Paged[ClassSummary]
    search: str


@dataclass(frozen=True, slots=True)
class ClassView:
    """One class: its head teacher, counts and (where the reader's view has identities) the
    page of its students asked for."""

    class_id: uuid.UUID
    school: SchoolChoice
    grade: int
    name: str
    head_teacher_id: uuid.UUID | None
    head_teacher: str | None
    active_students: int
    committee_members: int
    students: Paged[StudentRow] | None  # None: the reader's view names no student
    head_teachers: Sequence[HeadTeacherChoice]
    search: str


# --- helpers ---------------------------------------------------------------------------------


def _invalid(field: str, zh: str, en: str, code: str) -> Unprocessable:
    """A refused form: the message names the field (``extra["field"]`` marks it invalid)."""
    return Unprocessable(en, code=code, message={"zh-CN": zh, "en": en}, extra={"field": field})


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """``2班`` before ``10班``: digits compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )


def _matches(search: str, *values: str) -> bool:
    needle = search.casefold()
    return not needle or any(needle in v.casefold() for v in values)


async def _own_district_code(db: AsyncSession, actor: StaffUser) -> str:
    code = await db.scalar(select(District.code).where(District.id == actor.district_id))
    if code is None:  # an account always belongs to a district
        raise NotFound("No such district", code="district_not_found")
    return code


async def _head_teachers(db: AsyncSession, school_id: uuid.UUID) -> list[HeadTeacherChoice]:
    rows = await db.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username)
        .where(
            StaffUser.school_id == school_id,
            StaffUser.role == Role.HEAD_TEACHER.value,
            StaffUser.active.is_(True),
        )
        .order_by(StaffUser.display_name, StaffUser.username)
    )
    return [HeadTeacherChoice(i, d, u) for i, d, u in rows]


async def _class_counts(
    db: AsyncSession, class_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """Active students and committee members per class."""
    if not class_ids:
        return {}
    rows = await db.execute(
        select(
            Student.class_id,
            func.count(Student.id),
            func.count(Student.id).filter(Student.psychology_committee.is_(True)),
        )
        .where(Student.class_id.in_(class_ids), Student.status == "active")
        .group_by(Student.class_id)
    )
    return {c: (int(n), int(m)) for c, n, m in rows}


async def _per_school(
    db: AsyncSession,
    school_col: InstrumentedAttribute[Any],
    id_col: InstrumentedAttribute[uuid.UUID],
    school_ids: list[uuid.UUID],
    *where: ColumnElement[bool],
) -> dict[uuid.UUID, int]:
    """How many rows each school has (of a table, with extra conditions)."""
    if not school_ids:
        return {}
    rows = await db.execute(
        select(school_col, func.count(id_col))
        .where(school_col.in_(school_ids), *where)
        .group_by(school_col)
    )
    return {school: int(n) for school, n in rows}


# --- schools (district officer) --------------------------------------------------------------


async def schools_page(
    db: AsyncSession,
    actor: StaffUser,
    *,
    search: str,
    query: Mapping[str, str],
    path: str,
    per_page: int = PER_PAGE,
) -> SchoolsView:
    """The district's schools by code, filtered by name or code, with their counts."""
    permissions.require(actor, "schools.list")
    schools = [s for s in await schools_in_scope(db, actor) if _matches(search, s.code, s.name)]
    ids = [s.id for s in schools]
    classes = await _per_school(db, SchoolClass.school_id, SchoolClass.id, ids)
    students = await _per_school(db, Student.school_id, Student.id, ids, Student.status == "active")
    staff = await _per_school(
        db, StaffUser.school_id, StaffUser.id, ids, StaffUser.active.is_(True)
    )
    rows = [
        SchoolSummary(
            code=s.code,
            name=s.name,
            timezone=s.timezone,
            counselling_room=s.counselling_room,
            classes=int(classes.get(s.id, 0)),
            active_students=int(students.get(s.id, 0)),
            staff_accounts=int(staff.get(s.id, 0)),
        )
        for s in schools
    ]
    return SchoolsView(paginate(rows, path, query, per_page=per_page), search)


async def create_school(
    db: AsyncSession,
    actor: StaffUser,
    *,
    code: str,
    name: str,
    timezone: str,
    counselling_room: str,
    now: datetime,
) -> SchoolChoice:
    """Add a school to the officer's own district (audited by ``accounts.directory``)."""
    permissions.require(actor, "schools.create")
    code, name = code.strip(), " ".join(name.split())
    timezone = timezone.strip() or DEFAULT_TIMEZONE
    room = counselling_room.strip()
    if not code or len(code) > CODE_MAX or not _CODE.fullmatch(code):
        raise _invalid(
            "code",
            f"学校代码：请填写 1–{CODE_MAX} 个字母、数字、“-”或“_”。",
            f"School code: 1–{CODE_MAX} letters, digits, “-” or “_”.",
            "bad_school_code",
        )
    if not name or len(name) > NAME_MAX:
        raise _invalid(
            "name",
            f"学校名称：请填写，最多 {NAME_MAX} 个字。",
            f"School name: required, at most {NAME_MAX} characters.",
            "bad_school_name",
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(
            "timezone",
            f"时区：“{timezone}”不是有效的时区名称（例如 Asia/Shanghai）。",
            f"Time zone: “{timezone}” is not a time zone name (e.g. Asia/Shanghai).",
            "bad_timezone",
        ) from None
    if len(room) > ROOM_MAX:
        raise _invalid(
            "room",
            f"心理辅导室：最多 {ROOM_MAX} 个字。",
            f"Counselling room: at most {ROOM_MAX} characters.",
            "bad_counselling_room",
        )
    if await db.scalar(select(School.id).where(School.code == code)) is not None:
        raise _invalid(
            "code",
            f"学校代码：“{code}”已被使用，请换一个。",
            f"School code: “{code}” is already in use; choose another.",
            "school_exists",
        )
    row = await directory.add_school(
        db,
        code,
        name,
        district_code=await _own_district_code(db, actor),
        district_name=None,
        now=now,
        timezone=timezone,
        counselling_room=room or None,
        actor=actor,
    )
    return SchoolChoice(row.code, row.name)


# --- classes ---------------------------------------------------------------------------------


async def _school_of_page(
    db: AsyncSession, actor: StaffUser, school_code: str | None
) -> tuple[School | None, list[School]]:
    """The school a classes page shows and the schools to choose from: a district officer's
    choice (their district's first school by default), else the caller's own school."""
    schools = await schools_in_scope(db, actor)
    if school_code:
        return await school_in_scope(db, actor, school_code), schools
    return (schools[0] if schools else None), schools


async def classes_page(
    db: AsyncSession,
    actor: StaffUser,
    *,
    school_code: str | None,
    search: str,
    query: Mapping[str, str],
    path: str,
    per_page: int = PER_PAGE,
) -> ClassesView:
    """A school's classes by grade and name, with head teacher and counts; no student."""
    permissions.require(actor, "classes.list")
    school, schools = await _school_of_page(db, actor, school_code)
    choices = [SchoolChoice(s.code, s.name) for s in schools]
    if school is None:
        return ClassesView(None, choices, paginate([], path, query, per_page=per_page), search)
    rows = await db.execute(
        select(SchoolClass, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == SchoolClass.head_teacher_id)
        .where(SchoolClass.school_id == school.id)
    )
    klasses = sorted(
        ((k, head) for k, head in rows if _matches(search, k.name)),
        key=lambda kh: (kh[0].grade, _natural(kh[0].name)),
    )
    counts = await _class_counts(db, [k.id for k, _ in klasses])
    out = [
        ClassSummary(k.id, k.grade, k.name, head, *counts.get(k.id, (0, 0))) for k, head in klasses
    ]
    return ClassesView(
        SchoolChoice(school.code, school.name),
        choices,
        paginate(out, path, query, per_page=per_page),
        search,
    )


async def add_class(
    db: AsyncSession, actor: StaffUser, *, grade: str, name: str, now: datetime
) -> uuid.UUID:
    """Add a class to the caller's school; the new class's id."""
    permissions.require(actor, "classes.edit")
    if actor.school_id is None:
        raise NotFound("No such school", code="school_not_found")
    school = await db.get_one(School, actor.school_id)
    try:
        number = int(grade.strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 12:
        raise _invalid(
            "grade",
            "年级：请选择 1–12 年级。",
            "Grade: choose a grade from 1 to 12.",
            "bad_grade",
        )
    name = " ".join(name.split())
    if not name or len(name) > CLASS_NAME_MAX:
        raise _invalid(
            "name",
            f"班级名称：请填写，最多 {CLASS_NAME_MAX} 个字。",
            f"Class name: required, at most {CLASS_NAME_MAX} characters.",
            "bad_class_name",
        )
    taken = await db.scalar(
        select(SchoolClass.id).where(
            SchoolClass.school_id == school.id,
            SchoolClass.grade == number,
            SchoolClass.name == name,
        )
    )
    if taken is not None:
        raise _invalid(
            "name",
            f"班级名称：{number} 年级已有“{name}”。",
            f"Class name: grade {number} already has “{name}”.",
            "class_exists",
        )
    await directory.add_class(
        db, school.code, number, name, head_teacher=None, now=now, actor=actor
    )
    new_id = await db.scalar(
        select(SchoolClass.id).where(
            SchoolClass.school_id == school.id,
            SchoolClass.grade == number,
            SchoolClass.name == name,
        )
    )
    if new_id is None:  # created just above, in this transaction
        raise NotFound("No such class", code="class_not_found")
    return new_id


def _audit_read(
    db: AsyncSession,
    actor: StaffUser,
    klass: SchoolClass,
    student_ids: list[uuid.UUID],
    now: datetime,
) -> None:
    """The students a class page showed, as read by ``actor``."""
    audit.record(
        db,
        actor_id=actor.id,
        actor_role=actor.role,
        action="class.students_read",
        subject_type="student",
        subject_ids=student_ids,
        school_id=klass.school_id,
        now=now,
        detail={"class_id": str(klass.id)},
    )


async def class_page(
    db: AsyncSession,
    actor: StaffUser,
    class_id: uuid.UUID,
    *,
    search: str,
    query: Mapping[str, str],
    path: str,
    now: datetime,
    per_page: int = PER_PAGE,
) -> ClassView:
    """One class: head teacher, counts and, through a view with identities, the page of its
    active students asked for, by student number (never by any score). The students shown
    are audited as read."""
    permissions.require(actor, "classes.list")
    klass = await class_in_scope(db, actor, class_id)
    school = await db.get_one(School, klass.school_id)
    head = await db.get(StaffUser, klass.head_teacher_id) if klass.head_teacher_id else None
    counts = (await _class_counts(db, [klass.id])).get(klass.id, (0, 0))
    students: Paged[StudentRow] | None = None
    if field_views.lens_of(actor).identity:
        rows = (
            await db.scalars(
                select(Student)
                .where(Student.class_id == klass.id, Student.status == "active")
                .order_by(Student.student_number)
            )
        ).all()
        shown = [
            StudentRow(s.id, s.student_number, s.name, s.psychology_committee)
            for s in rows
            if _matches(search, s.name, s.student_number)
        ]
        students = paginate(shown, path, query, per_page=per_page)
        if students.items:
            _audit_read(db, actor, klass, [s.student_id for s in students.items], now)
    can_edit = permissions.allowed(permissions.role_of(actor), "classes.edit")
    return ClassView(
        class_id=klass.id,
        school=SchoolChoice(school.code, school.name),
        grade=klass.grade,
        name=klass.name,
        head_teacher_id=head.id if head else None,
        head_teacher=head.display_name if head else None,
        active_students=counts[0],
        committee_members=counts[1],
        students=students,
        head_teachers=await _head_teachers(db, school.id) if can_edit else [],
        search=search,
    )


async def set_head_teacher(
    db: AsyncSession, actor: StaffUser, class_id: uuid.UUID, *, head: str, now: datetime
) -> str | None:
    """Name the class's head teacher (an active head-teacher account of its school), or none
    with an empty ``head``; the head teacher's display name."""
    permissions.require(actor, "classes.edit")
    klass = await class_in_scope(db, actor, class_id)
    school = await db.get_one(School, klass.school_id)
    head = head.strip()
    if not head:
        if klass.head_teacher_id is not None:
            klass.head_teacher_id = None
            audit.record(
                db,
                actor_id=actor.id,
                actor_role=actor.role,
                action="class.head_teacher_cleared",
                subject_type="class",
                subject_ids=[klass.id],
                school_id=klass.school_id,
                now=now,
            )
        return None
    choices = {str(c.user_id): c for c in await _head_teachers(db, school.id)}
    chosen = choices.get(head)
    if chosen is None:
        raise _invalid(
            "head",
            "班主任：请从列表中选择本校的班主任账号。",
            "Head teacher: choose one of the school's head-teacher accounts from the list.",
            "bad_head_teacher",
        )
    await directory.assign_head(
        db, school.code, klass.grade, klass.name, chosen.username, now=now, actor=actor
    )
    return chosen.display_name


async def set_committee(
    db: AsyncSession,
    actor: StaffUser,
    class_id: uuid.UUID,
    *,
    shown: Collection[uuid.UUID],
    members: Collection[uuid.UUID],
    now: datetime,
) -> int:
    """Mark the students of the page shown (``shown``) as committee members or not
    (``members``); students of other classes or pages are left alone. How many changed."""
    permissions.require(actor, "classes.edit")
    klass = await class_in_scope(db, actor, class_id)
    if not shown:
        return 0
    students = (
        await db.scalars(
            select(Student).where(
                Student.class_id == klass.id,
                Student.status == "active",
                Student.id.in_(list(shown)),
            )
        )
    ).all()
    wanted = set(members)
    changed = [s for s in students if s.psychology_committee != (s.id in wanted)]
    for student in changed:
        student.psychology_committee = student.id in wanted
    if changed:
        audit.record(
            db,
            actor_id=actor.id,
            actor_role=actor.role,
            action="class.committee_set",
            subject_type="student",
            subject_ids=[s.id for s in changed],
            school_id=klass.school_id,
            now=now,
            detail={
                "class_id": str(klass.id),
                "added": sum(1 for s in changed if s.psychology_committee),
                "removed": sum(1 for s in changed if not s.psychology_committee),
            },
        )
    return len(changed)
