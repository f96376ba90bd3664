"""The student's file (一人一档): everything about one student, across years and schools.

What a reader sees depends on their field view (``accounts.views``): a head teacher sees the
timeline of care but never answers or scores; a district officer sees no identity and only the
cases, their events and tasks, unless a break-glass grant of theirs on the student is in force.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.accounts.views import lens_for
from survey_service.cases.events import case_event
from survey_service.cases.schemas import StudentOut
from survey_service.db import (
    AsyncSession,
    Campaign,
    CareRecord,
    Case,
    CaseEvent,
    CaseTask,
    CrisisPlan,
    Observation,
    Referral,
    Response,
    School,
    SchoolClass,
    Score,
    ScreeningSession,
    StaffUser,
    Student,
    TriageRecord,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.norms.service import norms_for_results
from survey_service.services import audit

# What of a file the aggregate view (district officer) keeps: the care work, not the student.
AGGREGATE_ENTRIES = frozenset({"case", "case_event", "task"})


class FileEntry(msgspec.Struct, frozen=True):
    at: datetime
    kind: str
    summary: dict[str, Any]


class StudentFile(msgspec.Struct, frozen=True):
    """The file; ``name``, ``student_number``, ``grade`` and ``class_name`` are null in the
    aggregate view (``view``), which also lists only cases, case events and tasks."""

    student_id: uuid.UUID
    name: str | None
    student_number: str | None
    school: str
    grade: int | None
    class_name: str | None
    entries: list[FileEntry]
    view: str = "full"
    break_glass_until: datetime | None = None


async def student_file(
    db: AsyncSession, user: StaffUser, student_id: uuid.UUID, *, now: datetime
) -> StudentFile:
    """Every screening, score, tier, observation, talk, task, plan, referral and case event."""
    permissions.require(user, "files.read")
    student = await student_in_scope(db, user, student_id)
    role = user.role
    lens = await lens_for(db, user, now=now, student_id=student.id)
    see_scores = lens.sees("scores")
    see_reasons = lens.sees("reasons")
    see_notes = lens.sees("talk_notes")
    see_plan = lens.sees("plan")
    entries: list[FileEntry] = []

    sessions = (
        await db.scalars(select(ScreeningSession).where(ScreeningSession.student_id == student.id))
    ).all()
    campaigns = {
        c.id: c
        for c in (
            await db.scalars(
                select(Campaign).where(Campaign.id.in_([s.campaign_id for s in sessions]))
            )
        ).all()
    }
    scores_by_session: dict[uuid.UUID, list[Score]] = {}
    for score in (
        await db.scalars(
            select(Score).where(Score.student_id == student.id).order_by(Score.scored_at)
        )
    ).all():
        scores_by_session.setdefault(score.session_id, []).append(score)
    # The language each result was given in and that text's validation status (issue 11);
    # None for results stored before it was recorded.
    given_in: dict[uuid.UUID, tuple[str | None, str | None]] = {
        r.id: (r.language, r.language_status)
        for r in (
            await db.execute(
                select(Response.id, Response.language, Response.language_status).where(
                    Response.student_id == student.id
                )
            )
        ).all()
    }
    for s in sessions:
        summary: dict[str, Any] = {
            "campaign": campaigns[s.campaign_id].name,
            "school_year": campaigns[s.campaign_id].school_year,
            "status": s.status,
            # Who answered: the student, or the guardian through the guardian link.
            "respondent": s.respondent,
        }
        if see_scores:
            summary["quality_flags"] = [f["code"] for f in s.quality_flags]
            summary["results"] = [
                {
                    "instrument_id": sc.instrument_id,
                    "version": sc.instrument_version,
                    "status": sc.status,
                    "total": sc.total,
                    "band": sc.band,
                    "flags": [f["code"] for f in sc.flags],
                    "language": given_in.get(sc.response_id, (None, None))[0],
                    "language_status": given_in.get(sc.response_id, (None, None))[1],
                }
                for sc in scores_by_session.get(s.id, [])
            ]
            # Issue 16: T-score and percentile rank against the campaign's chosen norms
            # (display only; never a band or a tier).
            normed = await norms_for_results(
                db,
                s.campaign_id,
                scores_by_session.get(s.id, []),
                grade=(await db.get_one(SchoolClass, student.class_id)).grade,
                gender=student.gender,
            )
            for shown_result, sc in zip(
                summary["results"], scores_by_session.get(s.id, []), strict=True
            ):
                if sc.id in normed:
                    shown_result["norms"] = normed[sc.id]
        entries.append(
            FileEntry(at=s.submitted_at or s.started_at, kind="screening", summary=summary)
        )
    for t in (
        await db.scalars(select(TriageRecord).where(TriageRecord.student_id == student.id))
    ).all():
        summary = {"tier": t.tier, "source": t.source, "policy_version": t.policy_version}
        if see_reasons:
            summary["reasons"] = [r["text"] for r in t.reasons]
        entries.append(FileEntry(at=t.evaluated_at, kind="triage", summary=summary))
    for o in (
        await db.scalars(select(Observation).where(Observation.student_id == student.id))
    ).all():
        summary = {"kind": o.kind, "severity": o.severity}
        if see_notes:
            summary["note"] = o.note
        entries.append(FileEntry(at=o.observed_at, kind="observation", summary=summary))
    cases = (await db.scalars(select(Case).where(Case.student_id == student.id))).all()
    case_ids = [c.id for c in cases]
    for c in cases:
        entries.append(
            FileEntry(
                at=c.opened_at,
                kind="case",
                summary={"case_id": str(c.id), "tier": c.tier, "status": c.status},
            )
        )
    for e in (await db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)))).all():
        entries.append(
            FileEntry(
                at=e.at,
                kind="case_event",
                summary={
                    "case_id": str(e.case_id),
                    "event": e.kind,
                    **({"note": e.note} if see_notes and e.note else {}),
                },
            )
        )
    for task in (await db.scalars(select(CaseTask).where(CaseTask.case_id.in_(case_ids)))).all():
        if role == "head_teacher" and task.assignee_role != "head_teacher":
            continue
        entries.append(
            FileEntry(
                at=task.due_at,
                kind="task",
                summary={
                    "task_id": str(task.id),
                    "task": task.kind,
                    "status": task.status,
                    "due_at": task.due_at.isoformat(),
                },
            )
        )
    for r in (
        await db.scalars(select(CareRecord).where(CareRecord.student_id == student.id))
    ).all():
        summary = {"record": r.kind}
        if see_notes:
            summary["summary"] = r.summary
        entries.append(FileEntry(at=r.at, kind="care_record", summary=summary))
    if see_plan:
        for p in (
            await db.scalars(select(CrisisPlan).where(CrisisPlan.student_id == student.id))
        ).all():
            entries.append(
                FileEntry(
                    at=p.created_at,
                    kind="plan",
                    summary={"version": p.version, "review_on": p.review_on.isoformat()},
                )
            )
    for ref in (await db.scalars(select(Referral).where(Referral.student_id == student.id))).all():
        entries.append(
            FileEntry(
                at=ref.sent_at,
                kind="referral",
                summary={"hospital": ref.hospital, "stage": ref.stage},
            )
        )
    if not lens.identity:
        # The aggregate view: the care work only, none of what the student said or did.
        entries = [e for e in entries if e.kind in AGGREGATE_ENTRIES]
    entries.sort(key=lambda e: (e.at, e.kind))
    school = await db.get_one(School, student.school_id)
    klass = await db.get_one(SchoolClass, student.class_id)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="student.file",
        subject_type="student",
        subject_ids=[student.id],
        school_id=student.school_id,
        now=now,
    )
    shown = lens.identity
    return StudentFile(
        student_id=student.id,
        name=student.name if shown else None,
        student_number=student.student_number if shown else None,
        school=school.name,
        grade=klass.grade if shown else None,
        class_name=klass.name if shown else None,
        entries=entries,
        view=lens.view.value,
        break_glass_until=lens.break_glass_until,
    )


async def transfer_by_number(
    db: AsyncSession,
    user: StaffUser,
    *,
    from_school_code: str,
    student_number: str,
    school_code: str,
    class_id: uuid.UUID,
    now: datetime,
) -> StudentOut:
    """:func:`transfer_student` for the student with ``student_number`` at the school
    ``from_school_code`` of the caller's district. Messages never echo the number."""
    permissions.require(user, "students.transfer")
    source = await db.scalar(select(School).where(School.code == from_school_code))
    if source is None or source.district_id != user.district_id:
        raise NotFound(f"No school {from_school_code!r} in this district", code="school_not_found")
    student_id = await db.scalar(
        select(Student.id).where(
            Student.school_id == source.id, Student.student_number == student_number
        )
    )
    if student_id is None:
        raise NotFound(
            f"No student with that number at {from_school_code}", code="student_not_found"
        )
    return await transfer_student(
        db, user, student_id, school_code=school_code, class_id=class_id, now=now
    )


async def transfer_student(
    db: AsyncSession,
    user: StaffUser,
    student_id: uuid.UUID,
    *,
    school_code: str,
    class_id: uuid.UUID,
    now: datetime,
) -> StudentOut:
    """Move a student to another school of the district; the file and open case follow."""
    permissions.require(user, "students.transfer")
    student = await student_in_scope(db, user, student_id)
    school = await db.scalar(select(School).where(School.code == school_code))
    if school is None or school.district_id != user.district_id:
        raise NotFound(f"No school {school_code!r} in this district", code="school_not_found")
    klass = await db.get(SchoolClass, class_id)
    if klass is None or klass.school_id != school.id:
        raise Unprocessable(
            "class_id is not a class of the target school", code="class_not_in_school"
        )
    clash = await db.scalar(
        select(Student.id).where(
            Student.school_id == school.id, Student.student_number == student.student_number
        )
    )
    if clash is not None:
        # The district officer never learns the student number: the message does not echo it.
        raise Conflict(
            f"the student's number is already used by another student at {school_code}",
            code="student_number_taken",
        )
    previous = student.school_id
    student.school_id = school.id
    student.class_id = klass.id
    for case in (
        await db.scalars(select(Case).where(Case.student_id == student.id, Case.status != "closed"))
    ).all():
        case.school_id = school.id
        db.add(
            case_event(
                case.id,
                "transferred",
                at=now,
                actor_id=user.id,
                data={"from_school": str(previous), "to_school": str(school.id)},
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="student.transfer",
        subject_type="student",
        subject_ids=[student.id],
        school_id=school.id,
        now=now,
    )
    return StudentOut(student_id=student.id, school_id=student.school_id, class_id=student.class_id)
