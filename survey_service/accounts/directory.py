"""The operator's directory of districts, schools, classes and staff accounts (issue 13):
``runxin schools|classes|staff ...`` create and list them, so going live needs no SQL.

Pure service functions on an :class:`AsyncSession`, run in the caller's transaction: every
check comes before the first write, so an error leaves nothing written. Each change adds an
audit row with actor ``cli`` (the server's operator).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from survey_service.accounts.auth import one_time_password
from survey_service.accounts.permissions import SCOPES, Role
from survey_service.db import AsyncSession, District, School, SchoolClass, StaffUser
from survey_service.errors import BadRequest, Conflict, NotFound
from survey_service.security import hash_password_async
from survey_service.services import audit

#: The audit actor of the command line.
CLI_ACTOR = "cli"


@dataclass(frozen=True, slots=True)
class SchoolRow:
    code: str
    name: str
    district_code: str


@dataclass(frozen=True, slots=True)
class ClassRow:
    grade: int
    name: str
    head_teacher: str | None


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A staff account as listed: never the password hash."""

    username: str
    role: str
    display_name: str
    school_code: str | None
    active: bool
    phone: str | None


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A created account and its one-time password (shown once, stored only hashed)."""

    username: str
    role: str
    school_code: str | None
    one_time_password: str


def _audit(
    db: AsyncSession,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    *,
    school_id: uuid.UUID | None,
    now: datetime,
    detail: dict[str, str | int] | None = None,
    actor: StaffUser | None = None,
) -> None:
    """One audit row: by ``actor`` (a staff page), else by the command line's operator."""
    audit.record(
        db,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else CLI_ACTOR,
        action=action,
        subject_type=subject_type,
        subject_ids=[subject_id],
        school_id=school_id,
        now=now,
        detail=detail,
    )


def _known(values: list[str]) -> str:
    return ", ".join(values) or "(none)"


async def _district(db: AsyncSession, code: str | None) -> District:
    """The district named ``code``; without a code, the only district there is."""
    districts = list(await db.scalars(select(District).order_by(District.code)))
    if code is None:
        if len(districts) == 1:
            return districts[0]
        if not districts:
            raise NotFound(
                "there is no district yet; give --district CODE --district-name NAME to create one",
                code="district_not_found",
            )
        raise BadRequest(
            f"there are several districts; give --district CODE (known: "
            f"{_known([d.code for d in districts])})",
            code="district_ambiguous",
        )
    for d in districts:
        if d.code == code:
            return d
    raise NotFound(
        f"unknown district {code!r}; known: {_known([d.code for d in districts])}",
        code="district_not_found",
    )


async def school_by_code(db: AsyncSession, code: str) -> School:
    school = await db.scalar(select(School).where(School.code == code))
    if school is None:
        known = list(await db.scalars(select(School.code).order_by(School.code)))
        raise NotFound(f"unknown school {code!r}; known: {_known(known)}", code="school_not_found")
    return school


async def add_school(
    db: AsyncSession,
    code: str,
    name: str,
    *,
    district_code: str | None,
    district_name: str | None,
    now: datetime,
    timezone: str | None = None,
    counselling_room: str | None = None,
    actor: StaffUser | None = None,
) -> SchoolRow:
    """Create a school (and, with ``district_name``, its new district).

    ``actor`` is the staff account acting through a page (``schools.directory_admin``, which
    checks its scope first); without one the audit rows name the command line's operator.
    """
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise BadRequest("a school needs a code and a name", code="bad_school")
    if await db.scalar(select(School.id).where(School.code == code)) is not None:
        raise Conflict(f"a school with code {code!r} already exists", code="school_exists")
    district: District | None = None
    if district_name is not None:
        if district_code is None:
            raise BadRequest("--district-name needs --district CODE", code="bad_district")
        district = await db.scalar(select(District).where(District.code == district_code))
        if district is None:
            district = District(code=district_code, name=district_name.strip())
            db.add(district)
            await db.flush()
            _audit(db, "district.created", "district", district.id, school_id=None, now=now)
    if district is None:
        district = await _district(db, district_code)
    school = School(district_id=district.id, code=code, name=name)
    if timezone is not None:
        school.timezone = timezone
    if counselling_room is not None:
        school.counselling_room = counselling_room
    db.add(school)
    await db.flush()
    _audit(db, "school.created", "school", school.id, school_id=school.id, now=now, actor=actor)
    return SchoolRow(code=school.code, name=school.name, district_code=district.code)


async def list_schools(db: AsyncSession) -> list[SchoolRow]:
    rows = await db.execute(
        select(School.code, School.name, District.code)
        .join(District, District.id == School.district_id)
        .order_by(School.code)
    )
    return [SchoolRow(code=c, name=n, district_code=d) for c, n, d in rows]


async def _staff_of_school(db: AsyncSession, school: School, username: str) -> StaffUser:
    user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or user.school_id != school.id:
        raise NotFound(
            f"no staff account {username!r} at school {school.code}", code="staff_not_found"
        )
    return user


async def _class(db: AsyncSession, school: School, grade: int, name: str) -> SchoolClass:
    klass = await db.scalar(
        select(SchoolClass).where(
            SchoolClass.school_id == school.id,
            SchoolClass.grade == grade,
            SchoolClass.name == name,
        )
    )
    if klass is None:
        raise NotFound(
            f"no class {name!r} in grade {grade} at school {school.code}", code="class_not_found"
        )
    return klass


async def add_class(
    db: AsyncSession,
    school_code: str,
    grade: int,
    name: str,
    *,
    head_teacher: str | None,
    now: datetime,
    actor: StaffUser | None = None,
) -> ClassRow:
    """Create a class of a school, optionally with its head teacher (an account there);
    ``actor`` as in :func:`add_school`."""
    school = await school_by_code(db, school_code)
    name = name.strip()
    if not name or not 1 <= grade <= 12:
        raise BadRequest("a class needs a name and a grade from 1 to 12", code="bad_class")
    exists = await db.scalar(
        select(SchoolClass.id).where(
            SchoolClass.school_id == school.id,
            SchoolClass.grade == grade,
            SchoolClass.name == name,
        )
    )
    if exists is not None:
        raise Conflict(
            f"class {name!r} of grade {grade} already exists at school {school.code}",
            code="class_exists",
        )
    head = await _staff_of_school(db, school, head_teacher) if head_teacher else None
    klass = SchoolClass(
        school_id=school.id, grade=grade, name=name, head_teacher_id=head.id if head else None
    )
    db.add(klass)
    await db.flush()
    _audit(db, "class.created", "class", klass.id, school_id=school.id, now=now, actor=actor)
    return ClassRow(grade=grade, name=name, head_teacher=head.username if head else None)


async def list_classes(db: AsyncSession, school_code: str) -> list[ClassRow]:
    school = await school_by_code(db, school_code)
    rows = await db.execute(
        select(SchoolClass.grade, SchoolClass.name, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == SchoolClass.head_teacher_id)
        .where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    return [ClassRow(grade=g, name=n, head_teacher=u) for g, n, u in rows]


async def assign_head(
    db: AsyncSession,
    school_code: str,
    grade: int,
    class_name: str,
    username: str,
    *,
    now: datetime,
    actor: StaffUser | None = None,
) -> ClassRow:
    """Make ``username`` (an account of the school) the head teacher of a class; ``actor``
    as in :func:`add_school`."""
    school = await school_by_code(db, school_code)
    klass = await _class(db, school, grade, class_name)
    head = await _staff_of_school(db, school, username)
    klass.head_teacher_id = head.id
    _audit(
        db,
        "class.head_teacher_assigned",
        "class",
        klass.id,
        school_id=school.id,
        now=now,
        detail={"head_teacher": head.username},
        actor=actor,
    )
    return ClassRow(grade=klass.grade, name=klass.name, head_teacher=head.username)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise BadRequest(
            f"unknown role {value!r}; known: {', '.join(r.value for r in Role)}",
            code="unknown_role",
        ) from None


async def add_staff(
    db: AsyncSession,
    username: str,
    *,
    role: str,
    school_code: str | None,
    district_code: str | None,
    display_name: str | None,
    phone: str | None,
    now: datetime,
) -> NewStaff:
    """Create a staff account with a random one-time password (returned once, stored hashed).

    A school-bound role (counsellor, school lead, teacher, ...) needs a school; a district
    role (district officer, auditor) must not have one.
    """
    the_role = parse_role(role)
    username = username.strip()
    if not username:
        raise BadRequest("a staff account needs a username", code="bad_username")
    school_bound = SCOPES[the_role] in ("school", "class")
    if school_bound and school_code is None:
        raise BadRequest(f"a {the_role.value} account needs --school CODE", code="school_needed")
    if not school_bound and school_code is not None:
        raise BadRequest(
            f"a {the_role.value} account belongs to the district; give no --school",
            code="not_a_school_account",
        )
    if await db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"a staff account named {username!r} already exists", code="staff_exists")
    school = await school_by_code(db, school_code) if school_code is not None else None
    district_id = school.district_id if school else (await _district(db, district_code)).id
    password = one_time_password()  # changed at the first sign-in (must_change_password)
    user = StaffUser(
        username=username,
        password_hash=await hash_password_async(password),
        role=the_role.value,
        display_name=(display_name or username).strip(),
        district_id=district_id,
        school_id=school.id if school else None,
        active=True,
        phone=phone,
        must_change_password=True,
    )
    db.add(user)
    await db.flush()
    _audit(
        db,
        "staff.created",
        "staff_user",
        user.id,
        school_id=user.school_id,
        now=now,
        detail={"role": the_role.value},
    )
    return NewStaff(
        username=username,
        role=the_role.value,
        school_code=school.code if school else None,
        one_time_password=password,
    )


async def list_staff(db: AsyncSession, school_code: str | None) -> list[StaffRow]:
    query = (
        select(
            StaffUser.username,
            StaffUser.role,
            StaffUser.display_name,
            School.code,
            StaffUser.active,
            StaffUser.phone,
        )
        .outerjoin(School, School.id == StaffUser.school_id)
        .order_by(StaffUser.username)
    )
    if school_code is not None:
        school = await school_by_code(db, school_code)
        query = query.where(StaffUser.school_id == school.id)
    rows = await db.execute(query)
    return [
        StaffRow(username=u, role=r, display_name=n, school_code=s, active=a, phone=p)
        for u, r, n, s, a, p in rows
    ]
