"""Roster import: preview first, then an all-or-nothing apply (issue 6).

Students are matched by student number within the school; a re-import next year updates
them (grade up, new class, guardian changes), marks missing or transferred students as left
and never deletes anyone, so every student's file survives.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import msgspec
from sqlalchemy import insert, select

from survey_service.accounts.access import require_role
from survey_service.db import AsyncSession, Guardian, School, SchoolClass, StaffUser, Student
from survey_service.errors import NotFound
from survey_service.rosters import (
    ClassCheck,
    ExistingStudent,
    ImportCounts,
    RatioCheck,
    RosterRow,
    committee_check,
    counsellor_ratio,
    parse_roster,
    plan_import,
)

IMPORTERS = {"school_admin", "school_lead"}
CHUNK = 5000


class RosterReport(msgspec.Struct, frozen=True):
    """What an import would do (preview) or did (apply); ``errors`` blocks any apply."""

    school_code: str
    applied: bool
    errors: list[str]
    warnings: list[str]
    counts: ImportCounts | None
    committee: list[ClassCheck]
    ratio: RatioCheck | None


async def import_roster(
    db: AsyncSession,
    *,
    school_code: str,
    path: Path,
    apply: bool,
    now: datetime,
    user: StaffUser | None = None,
) -> RosterReport:
    """Parse ``path``, plan against the school's students, and apply when asked and clean.

    ``user`` is the caller through the API (scoped to their school); ``None`` for the CLI.
    """
    if user is not None:
        require_role(user, IMPORTERS, "import rosters")
    school = await db.scalar(select(School).where(School.code == school_code))
    if school is None or (user is not None and user.school_id != school.id):
        raise NotFound(f"No school {school_code!r}", code="school_not_found")
    parsed = parse_roster(path)
    errors = [str(e) for e in parsed.errors]
    if errors:
        return RosterReport(school_code, False, errors, list(parsed.warnings), None, [], None)
    classes = {
        (c.grade, c.name): c
        for c in (
            await db.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id))
        ).all()
    }
    by_id = {c.id: c for c in classes.values()}
    students = {
        s.student_number: s
        for s in (await db.scalars(select(Student).where(Student.school_id == school.id))).all()
    }
    guardians = (
        {
            g.student_id: g
            for g in (
                await db.scalars(
                    select(Guardian).where(
                        Guardian.student_id.in_([s.id for s in students.values()])
                    )
                )
            ).all()
        }
        if students
        else {}
    )
    existing = {
        number: ExistingStudent(
            student_number=number,
            name=s.name,
            gender=s.gender if s.gender in ("male", "female") else None,  # type: ignore[arg-type]
            grade=by_id[s.class_id].grade,
            class_name=by_id[s.class_id].name,
            birth_date=s.birth_date,
            guardian_name=guardians[s.id].name if s.id in guardians else None,
            guardian_relation=guardians[s.id].relation if s.id in guardians else None,
            guardian_phone=guardians[s.id].phone if s.id in guardians else None,
            psychology_committee=s.psychology_committee,
            status=s.status,  # type: ignore[arg-type]
        )
        for number, s in students.items()
    }
    plan = plan_import(existing, parsed.rows)
    active = [r for r in parsed.rows if r.status == "active"]
    counsellors = (
        await db.scalars(
            select(StaffUser).where(
                StaffUser.school_id == school.id,
                StaffUser.role == "counsellor",
                StaffUser.active.is_(True),
            )
        )
    ).all()
    ratio = counsellor_ratio(
        len(active),
        sum(1 for c in counsellors if c.part_time),
        sum(1 for c in counsellors if not c.part_time),
    )
    committee = committee_check(active)
    if apply:
        await _apply(
            db,
            school,
            create=plan.create,
            update=[u.row for u in plan.update],
            leave=plan.mark_left,
            classes=classes,
            students=students,
            guardians=guardians,
        )
    return RosterReport(
        school_code, apply, [], list(parsed.warnings), plan.counts, committee, ratio
    )


async def _class_for(
    db: AsyncSession,
    school: School,
    row: RosterRow,
    classes: dict[tuple[int, str], SchoolClass],
) -> SchoolClass:
    key = (row.grade, row.class_name)
    if key not in classes:
        klass = SchoolClass(
            id=uuid.uuid4(), school_id=school.id, grade=row.grade, name=row.class_name
        )
        db.add(klass)
        classes[key] = klass
    return classes[key]


async def _apply(
    db: AsyncSession,
    school: School,
    *,
    create: tuple[RosterRow, ...],
    update: list[RosterRow],
    leave: tuple[object, ...],
    classes: dict[tuple[int, str], SchoolClass],
    students: dict[str, Student],
    guardians: dict[uuid.UUID, Guardian],
) -> None:
    """Write the plan in the caller's transaction (bulk inserts for new students)."""
    for row in [*create, *update]:
        await _class_for(db, school, row, classes)
    await db.flush()
    new_students: list[dict[str, object]] = []
    new_guardians: list[dict[str, object]] = []
    for row in create:
        student_id = uuid.uuid4()
        new_students.append(
            {
                "id": student_id,
                "school_id": school.id,
                "class_id": classes[(row.grade, row.class_name)].id,
                "student_number": row.student_number,
                "name": row.name,
                "gender": row.gender,
                "birth_date": row.birth_date,
                "status": row.status,
                "psychology_committee": bool(row.psychology_committee),
            }
        )
        if row.guardian_name or row.guardian_phone:
            new_guardians.append(
                {
                    "id": uuid.uuid4(),
                    "student_id": student_id,
                    "name": row.guardian_name or "",
                    "relation": row.guardian_relation or "监护人",
                    "phone": row.guardian_phone,
                }
            )
    for start in range(0, len(new_students), CHUNK):
        await db.execute(insert(Student), new_students[start : start + CHUNK])
    for start in range(0, len(new_guardians), CHUNK):
        await db.execute(insert(Guardian), new_guardians[start : start + CHUNK])
    for row in update:
        student = students[row.student_number]
        student.name = row.name
        student.gender = row.gender
        student.class_id = classes[(row.grade, row.class_name)].id
        student.status = row.status
        if row.birth_date is not None:
            student.birth_date = row.birth_date
        if row.psychology_committee is not None:
            student.psychology_committee = row.psychology_committee
        if row.guardian_name or row.guardian_phone:
            guardian = guardians.get(student.id)
            if guardian is None:
                db.add(
                    Guardian(
                        student_id=student.id,
                        name=row.guardian_name or "",
                        relation=row.guardian_relation or "监护人",
                        phone=row.guardian_phone,
                    )
                )
            else:
                guardian.name = row.guardian_name or guardian.name
                guardian.relation = row.guardian_relation or guardian.relation
                guardian.phone = row.guardian_phone or guardian.phone
    for leaving in leave:
        number = leaving.student_number  # type: ignore[attr-defined]
        students[number].status = leaving.status  # type: ignore[attr-defined]
