"""Roster import: preview first, then an all-or-nothing apply (issue 6).

Students are matched by student number within the school; a re-import next year updates
them (grade up, new class, guardian changes), marks transferred students as left and never
deletes anyone, so every student's file survives.

Nobody is dropped silently (issue 19): the report lists every student the file would mark as
left, each with their open cases. Students marked 转出/离校 in the file are marked so on
apply; students merely *missing* from the file stay active unless the apply carries
``confirm_leavers`` equal to the token the preview returned for exactly that set
(:func:`survey_service.rosters.leavers_token`). An apply without it imports everything else
and reports the missing students as awaiting confirmation; a token for another set is refused
(409 ``leavers_changed``) with nothing written. Marking a student as left never touches their
cases: open cases stay open with the school's counsellors until transferred or closed.

``mode`` (issue 13): ``replace`` (the default, all of the above) treats the file as the whole
roster; ``incremental`` only adds new students and updates existing ones (same student
number): nobody missing from the file is a leaver, so there is nothing to confirm. Rows
marked 转出/离校 are still marked so in either mode.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import msgspec
from sqlalchemy import insert, select

from survey_service.accounts import permissions
from survey_service.accounts.permissions import allowed
from survey_service.cases.service import OPEN_STATES
from survey_service.db import (
    AsyncSession,
    Case,
    Guardian,
    School,
    SchoolClass,
    StaffUser,
    Student,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.rosters import (
    ClassCheck,
    ExistingStudent,
    ImportCounts,
    RatioCheck,
    RosterRow,
    StudentLeave,
    committee_check,
    counsellor_ratio,
    leavers_token,
    parse_roster,
    plan_import,
)
from survey_service.rosters._plan import ImportMode
from survey_service.services import audit

CHUNK = 5000

#: The import modes: the file is the whole roster, or it only adds and updates students.
ROSTER_MODES: tuple[ImportMode, ...] = ("replace", "incremental")


class OpenCaseRef(msgspec.Struct, frozen=True):
    """An open case of a student the roster would mark as left (it stays open)."""

    case_id: uuid.UUID
    tier: str
    status: str


class RosterLeaver(msgspec.Struct, frozen=True):
    """A student the file would mark as left, with their open cases.

    ``reason`` is ``not_in_file`` (needs ``confirm_leavers``), ``transferred`` or ``left``
    (marked 转出/离校 in the file, row ``row``). ``marked``: this apply marked them as left.
    ``open_cases`` is filled for roles that may read cases (and the CLI); others get only
    ``open_case_count``.
    """

    student_id: uuid.UUID
    student_number: str
    name: str
    grade: int
    class_name: str
    reason: str
    status: str
    row: int | None
    marked: bool
    open_case_count: int
    open_cases: list[OpenCaseRef]


class RosterReport(msgspec.Struct, frozen=True):
    """What an import would do (preview) or did (apply); ``errors`` blocks any apply.

    ``counts.mark_left`` is what the preview would mark with the confirmation, or what the
    apply marked. ``confirm_leavers`` is the token that confirms marking the students missing
    from the file as left (``None`` when none is missing); ``leavers_unconfirmed`` how many of
    them this report leaves active for want of it.
    """

    school_code: str
    applied: bool
    errors: list[str]
    warnings: list[str]
    counts: ImportCounts | None
    committee: list[ClassCheck]
    ratio: RatioCheck | None
    leavers: list[RosterLeaver] = []
    confirm_leavers: str | None = None
    leavers_unconfirmed: int = 0
    mode: str = "replace"


def roster_mode(mode: str) -> ImportMode:
    """``mode`` checked against :data:`ROSTER_MODES`; anything else is ``Unprocessable``."""
    for allowed_mode in ROSTER_MODES:
        if mode == allowed_mode:
            return allowed_mode
    raise Unprocessable(
        f"mode {mode!r} is not one of {', '.join(ROSTER_MODES)}",
        code="invalid_mode",
        message={
            "zh-CN": f"导入方式必须是 {' 或 '.join(ROSTER_MODES)}。",
            "en": f"The import mode must be one of: {', '.join(ROSTER_MODES)}.",
        },
        extra={"allowed": list(ROSTER_MODES)},
    )


async def import_roster(
    db: AsyncSession,
    *,
    school_code: str,
    path: Path,
    apply: bool,
    now: datetime,
    user: StaffUser | None = None,
    confirm_leavers: str | None = None,
    mode: str = "replace",
) -> RosterReport:
    """Parse ``path``, plan against the school's students, and apply when asked and clean.

    ``user`` is the caller through the API (scoped to their school); ``None`` for the CLI.
    ``confirm_leavers``: the preview's ``confirm_leavers`` token; only with it are students
    missing from the file marked as left. A token for another set raises ``Conflict``
    (``leavers_changed``) before anything is written.
    ``mode``: ``replace`` (the file is the whole roster) or ``incremental`` (add and update
    only: students missing from the file are not leavers); any other value raises
    ``Unprocessable`` (``invalid_mode``) before anything is read or written.
    """
    import_mode = roster_mode(mode)
    if user is not None:
        permissions.require(user, "rosters.import")
    school = await db.scalar(select(School).where(School.code == school_code))
    if school is None or (user is not None and user.school_id != school.id):
        raise NotFound(f"No school {school_code!r}", code="school_not_found")
    parsed = parse_roster(path)
    errors = [str(e) for e in parsed.errors]
    if errors:
        return RosterReport(
            school_code, False, errors, list(parsed.warnings), None, [], None, mode=import_mode
        )
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
    plan = plan_import(existing, parsed.rows, mode=import_mode)
    missing = [m for m in plan.mark_left if m.reason == "not_in_file"]
    token = leavers_token(str(school.id), (m.student_number for m in missing))
    if confirm_leavers is not None and confirm_leavers != token:
        raise Conflict(
            f"confirm_leavers {confirm_leavers!r} is not for the {len(missing)} student(s) "
            "now missing from the file (the school's students or the file changed since the "
            "preview): preview again and confirm its list",
            code="leavers_changed",
        )
    confirmed = token is not None and confirm_leavers == token
    leave = tuple(m for m in plan.mark_left if confirmed or m.reason != "not_in_file")
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
            leave=leave,
            classes=classes,
            students=students,
            guardians=guardians,
        )
    leavers = await _leavers(
        db, plan.mark_left, students, by_id, marked=apply, leave=leave, user=user, now=now
    )
    counts = plan.counts
    if apply:
        counts = msgspec.structs.replace(counts, mark_left=len(leave))
    audit.record(
        db,
        actor_id=user.id if user is not None else None,
        actor_role=user.role if user is not None else "operator",  # the CLI: no account
        action="roster.apply" if apply else "roster.preview",
        subject_type="school",
        subject_ids=[school.id],
        school_id=school.id,
        now=now,
        detail={
            "create": counts.create,
            "update": counts.update,
            "unchanged": counts.unchanged,
            "mark_left": counts.mark_left,
            "skipped": counts.skipped,
            "mode": import_mode,
        },
    )
    return RosterReport(
        school_code,
        apply,
        [],
        list(parsed.warnings),
        counts,
        committee,
        ratio,
        leavers=leavers,
        confirm_leavers=token,
        leavers_unconfirmed=0 if confirmed else len(missing),
        mode=import_mode,
    )


async def _leavers(
    db: AsyncSession,
    planned: tuple[StudentLeave, ...],
    students: dict[str, Student],
    classes: dict[uuid.UUID, SchoolClass],
    *,
    marked: bool,
    leave: tuple[StudentLeave, ...],
    user: StaffUser | None,
    now: datetime,
) -> list[RosterLeaver]:
    """The students the plan marks as left, by class and number, with their open cases.

    Case details (id, tier, status) only for roles that may read cases, and audited.
    """
    if not planned:
        return []
    ids = {students[m.student_number].id: m for m in planned}
    cases: dict[uuid.UUID, list[Case]] = {}
    for case in (
        await db.scalars(
            select(Case)
            .where(Case.student_id.in_(list(ids)), Case.status.in_(OPEN_STATES))
            .order_by(Case.opened_at)
        )
    ).all():
        cases.setdefault(case.student_id, []).append(case)
    detail = user is None or allowed(user.role, "cases.read")
    done = {m.student_number for m in leave} if marked else set()
    out = []
    for student_id, m in ids.items():
        student = students[m.student_number]
        klass = classes.get(student.class_id)
        own = cases.get(student_id, [])
        out.append(
            RosterLeaver(
                student_id=student_id,
                student_number=m.student_number,
                name=student.name,
                grade=klass.grade if klass else 0,
                class_name=klass.name if klass else "",
                reason=m.reason,
                status=m.status,
                row=m.row,
                marked=m.student_number in done,
                open_case_count=len(own),
                open_cases=[OpenCaseRef(c.id, c.tier, c.status) for c in own] if detail else [],
            )
        )
    out.sort(key=lambda r: (r.grade, r.class_name, r.student_number))
    shown = [c.case_id for r in out for c in r.open_cases]
    if shown:
        audit.record(
            db,
            actor_id=user.id if user else None,
            actor_role=user.role if user else "operator",
            action="roster.leavers_cases",
            subject_type="case",
            subject_ids=shown,
            school_id=next(iter(students.values())).school_id,
            now=now,
        )
    return out


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
    leave: tuple[StudentLeave, ...],
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
    for leaving in leave:  # the status only: the student's cases stay as they are
        students[leaving.student_number].status = leaving.status
