"""Reads the pages need that the services do not offer yet. Nothing here changes care data.

Every read that names individual students adds an audit row (``services.audit.record``), in
the request's transaction, like the service reads do. Scoping follows ``services.access``: a
school's staff see their school, a district officer their district, a head teacher only the
classes they lead. No query here orders anything by a score.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts.access import require_role
from survey_service.cases.service import OPEN_STATES
from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    Case,
    CaseTask,
    Consent,
    Guardian,
    Referral,
    School,
    SchoolClass,
    ScreeningSession,
    StaffUser,
    Student,
    TriageRecord,
)
from survey_service.errors import Forbidden
from survey_service.services import audit

DASHBOARD_ROLES = {"counsellor", "school_lead", "school_admin", "district_officer"}


async def school_counsellors(
    db: AsyncSession, school_id: uuid.UUID
) -> list[tuple[str, str | None]]:
    """The school's active counsellors as (name, phone) for the student's help contacts."""
    rows = (
        await db.scalars(
            select(StaffUser)
            .where(
                StaffUser.school_id == school_id,
                StaffUser.role == "counsellor",
                StaffUser.active.is_(True),
            )
            .order_by(StaffUser.username)
        )
    ).all()
    return [(u.display_name, u.phone) for u in rows]


async def session_needs_urgent_help(db: AsyncSession, session_id: uuid.UUID) -> bool:
    """Whether the student's own submission was triaged red (the page shows urgent help)."""
    tier = await db.scalar(select(TriageRecord.tier).where(TriageRecord.session_id == session_id))
    return tier == "red"


# Pathways on which the student is shown the help contacts first and prominently (issue 11).
_SUICIDE_PATHWAYS = frozenset({"crisis", "suicide"})


async def session_on_suicide_pathway(db: AsyncSession, session_id: uuid.UUID) -> bool:
    """Whether this session's submission, or its saved answers triaged before it, fired a
    suicide or crisis pathway (by any reason, also when an open case's tier was kept).

    Only a yes/no for the thank-you page: which help to show first, never a score or tier.
    """
    rows = list(
        (await db.scalars(select(TriageRecord).where(TriageRecord.session_id == session_id))).all()
    )
    session = await db.get(ScreeningSession, session_id)
    if session is not None:
        saved = await db.scalars(
            select(TriageRecord).where(
                TriageRecord.student_id == session.student_id,
                TriageRecord.source == "saved_answers",
            )
        )
        rows += [
            r
            for r in saved.all()
            if any(
                (reason.get("evidence") or {}).get("session_id") == str(session_id)
                for reason in r.reasons
            )
        ]
    return any(
        r.pathway in _SUICIDE_PATHWAYS
        or any(reason.get("pathway") in _SUICIDE_PATHWAYS for reason in r.reasons)
        for r in rows
    )


async def school_classes(db: AsyncSession, user: StaffUser) -> list[SchoolClass]:
    """The classes of the caller's school (for filters); none for a district officer."""
    if user.school_id is None:
        return []
    return list(
        (
            await db.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == user.school_id)
                .order_by(SchoolClass.grade, SchoolClass.name)
            )
        ).all()
    )


async def case_referrals(db: AsyncSession, case_id: uuid.UUID) -> list[Referral]:
    """A case's referrals; call only after the case was read through an audited service."""
    return list(
        (
            await db.scalars(
                select(Referral).where(Referral.case_id == case_id).order_by(Referral.sent_at)
            )
        ).all()
    )


async def names(
    db: AsyncSession,
    *,
    staff_ids: Sequence[uuid.UUID] = (),
    guardian_ids: Sequence[uuid.UUID] = (),
    student_ids: Sequence[uuid.UUID] = (),
) -> dict[uuid.UUID, str]:
    """Display names of care-group members of a case already read through a service."""
    out: dict[uuid.UUID, str] = {}
    if staff_ids:
        for u in (await db.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))).all():
            out[u.id] = u.display_name
    if guardian_ids:
        for g in (await db.scalars(select(Guardian).where(Guardian.id.in_(guardian_ids)))).all():
            out[g.id] = f"{g.name}（{g.relation}）"
    if student_ids:
        for s in (await db.scalars(select(Student).where(Student.id.in_(student_ids)))).all():
            out[s.id] = s.name
    return out


# --- head teacher -----------------------------------------------------------------------


@dataclass(frozen=True)
class PupilStatus:
    student_id: uuid.UUID
    name: str
    student_number: str
    status: str  # none | started | submitted | refused


@dataclass(frozen=True)
class ClassCompletion:
    class_id: uuid.UUID
    grade: int
    name: str
    campaign_name: str | None
    pupils: list[PupilStatus]

    @property
    def done(self) -> int:
        return sum(1 for p in self.pupils if p.status == "submitted")

    @property
    def not_done(self) -> list[PupilStatus]:
        return [p for p in self.pupils if p.status != "submitted"]


async def _latest_campaign(
    db: AsyncSession, school_id: uuid.UUID, now: datetime
) -> Campaign | None:
    return await db.scalar(
        select(Campaign)
        .where(Campaign.school_id == school_id, Campaign.opens_at <= now)
        .order_by(Campaign.opens_at.desc())
        .limit(1)
    )


async def class_completion(
    db: AsyncSession, user: StaffUser, *, now: datetime
) -> list[ClassCompletion]:
    """Who in the head teacher's classes has (not) finished the school's current campaign.

    Only whether each student finished: never answers, scores or tiers. Audited.
    """
    require_role(user, {"head_teacher"}, "read class completion")
    classes = (
        await db.scalars(
            select(SchoolClass)
            .where(SchoolClass.head_teacher_id == user.id)
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
    ).all()
    if not classes or user.school_id is None:
        return []
    campaign = await _latest_campaign(db, user.school_id, now)
    students = (
        await db.scalars(
            select(Student)
            .where(Student.class_id.in_([k.id for k in classes]))
            .order_by(Student.student_number)
        )
    ).all()
    students = [s for s in students if s.status == "active"]
    status: dict[uuid.UUID, str] = {}
    invited: set[uuid.UUID] | None = None
    if campaign is not None:
        invited = set(
            (
                await db.scalars(
                    select(AccessCode.student_id).where(
                        AccessCode.campaign_id == campaign.id, AccessCode.respondent == "self"
                    )
                )
            ).all()
        )
        for s in (
            await db.scalars(
                # The student's own session: a guardian's form is not the student's completion.
                select(ScreeningSession).where(
                    ScreeningSession.campaign_id == campaign.id,
                    ScreeningSession.respondent == "self",
                )
            )
        ).all():
            status[s.student_id] = s.status
        for student_id in await _refusals(db, campaign.id):
            status.setdefault(student_id, "refused")
    out = []
    for klass in classes:
        pupils = [
            PupilStatus(s.id, s.name, s.student_number, status.get(s.id, "none"))
            for s in students
            if s.class_id == klass.id and (invited is None or s.id in invited or s.id in status)
        ]
        out.append(
            ClassCompletion(
                klass.id, klass.grade, klass.name, campaign.name if campaign else None, pupils
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="class.completion",
        subject_type="student",
        subject_ids=[p.student_id for c in out for p in c.not_done],
        school_id=user.school_id,
        now=now,
    )
    return out


async def _refusals(db: AsyncSession, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    """Students whose guardian declined the campaign."""
    rows = await db.scalars(
        select(Consent.student_id).where(
            Consent.campaign_id == campaign_id, Consent.status == "refused"
        )
    )
    return list(rows.all())


@dataclass(frozen=True)
class CareTaskRow:
    task_id: uuid.UUID
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class PupilUnderCare:
    student_id: uuid.UUID
    name: str
    class_name: str
    case_id: uuid.UUID
    tasks: list[CareTaskRow]


async def pupils_under_care(
    db: AsyncSession, user: StaffUser, *, now: datetime
) -> list[PupilUnderCare]:
    """Students of the head teacher's classes with an active case, and the open tasks assigned
    to head teachers (``triage.can_see(head_teacher, "tasks")``). No tier, score or reason."""
    require_role(user, {"head_teacher"}, "read students under care")
    rows = (
        await db.execute(
            select(Case, Student, SchoolClass)
            .join(Student, Student.id == Case.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(SchoolClass.head_teacher_id == user.id, Case.status.in_(OPEN_STATES))
            .order_by(SchoolClass.grade, SchoolClass.name, Student.student_number)
        )
    ).all()
    case_ids = [c.id for c, _, _ in rows]
    tasks: dict[uuid.UUID, list[CareTaskRow]] = {}
    if case_ids and triage.can_see("head_teacher", "tasks"):
        for t in (
            await db.scalars(
                select(CaseTask)
                .where(
                    CaseTask.case_id.in_(case_ids),
                    CaseTask.status == "open",
                    CaseTask.assignee_role == "head_teacher",
                )
                .order_by(CaseTask.due_at)
            )
        ).all():
            tasks.setdefault(t.case_id, []).append(CareTaskRow(t.id, t.kind, t.due_at))
    out = [PupilUnderCare(s.id, s.name, k.name, c.id, tasks.get(c.id, [])) for c, s, k in rows]
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="class.under_care",
        subject_type="student",
        subject_ids=[p.student_id for p in out],
        school_id=user.school_id,
        now=now,
    )
    return out


# --- dashboards -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    task_id: uuid.UUID
    case_id: uuid.UUID
    school_name: str
    student_name: str
    grade: int
    class_name: str
    kind: str
    assignee_role: str | None
    due_at: datetime
    status: str
    overdue: bool


async def _scope_schools(db: AsyncSession, user: StaffUser) -> list[School]:
    require_role(user, DASHBOARD_ROLES, "read dashboards")
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
    if user.school_id is None:
        raise Forbidden("This account is not attached to a school", code="no_school")
    return [await db.get_one(School, user.school_id)]


async def open_tasks(
    db: AsyncSession, user: StaffUser, *, now: datetime, overdue_only: bool = False
) -> list[TaskRow]:
    """Open tasks of active cases in the caller's scope, by due time (never by score). Audited."""
    schools = {s.id: s for s in await _scope_schools(db, user)}
    query = (
        select(CaseTask, Case, Student, SchoolClass)
        .join(Case, Case.id == CaseTask.case_id)
        .join(Student, Student.id == Case.student_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(
            CaseTask.status == "open",
            Case.status.in_(OPEN_STATES),
            Case.school_id.in_(list(schools)),
        )
        .order_by(CaseTask.due_at)
    )
    if overdue_only:
        query = query.where(CaseTask.due_at < now)
    out = [
        TaskRow(
            t.id,
            c.id,
            schools[c.school_id].name,
            s.name,
            k.grade,
            k.name,
            t.kind,
            t.assignee_role,
            t.due_at,
            t.status,
            now > t.due_at,
        )
        for t, c, s, k in (await db.execute(query)).all()
    ]
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="tasks.list",
        subject_type="case",
        subject_ids=sorted({r.case_id for r in out}),
        school_id=user.school_id,
        now=now,
    )
    return out


@dataclass(frozen=True)
class SchoolWork:
    """Counts only (no names): a district officer's view of a school's open work."""

    school_id: uuid.UUID
    open_cases: int
    overdue_tasks: int
    counsellors_full_time: int
    counsellors_part_time: int
    leads: int
    classes_without_head: int
    counselling_room: bool

    @property
    def cases_per_counsellor(self) -> float:
        staff = self.counsellors_full_time + self.counsellors_part_time
        return round(self.open_cases / staff, 1) if staff else float(self.open_cases)

    @property
    def checks(self) -> list[tuple[str, tuple[object, ...], bool]]:
        """(i18n key, format args, ok?) for each staffing check."""
        return [
            (
                "staff_counsellors",
                (self.counsellors_full_time, self.counsellors_part_time),
                self.counsellors_full_time >= 1,
            ),
            ("staff_leads", (self.leads,), self.leads >= 1),
            (
                "staff_classes_without_head",
                (self.classes_without_head,),
                self.classes_without_head == 0,
            ),
            ("staff_room", (), self.counselling_room),
            (
                "staff_cases_per_counsellor",
                (self.cases_per_counsellor,),
                self.counsellors_full_time + self.counsellors_part_time > 0
                and self.cases_per_counsellor <= 30,
            ),
        ]


async def school_work(
    db: AsyncSession, user: StaffUser, *, now: datetime
) -> dict[uuid.UUID, SchoolWork]:
    """Open cases, overdue tasks and staffing per school in scope (aggregates only)."""
    schools = await _scope_schools(db, user)
    ids = [s.id for s in schools]
    open_cases = Counter(
        (
            await db.scalars(
                select(Case.school_id).where(Case.school_id.in_(ids), Case.status.in_(OPEN_STATES))
            )
        ).all()
    )
    overdue = Counter(
        (
            await db.scalars(
                select(Case.school_id)
                .join(CaseTask, CaseTask.case_id == Case.id)
                .where(
                    Case.school_id.in_(ids),
                    Case.status.in_(OPEN_STATES),
                    CaseTask.status == "open",
                    CaseTask.due_at < now,
                )
            )
        ).all()
    )
    staff = (
        await db.scalars(
            select(StaffUser).where(StaffUser.school_id.in_(ids), StaffUser.active.is_(True))
        )
    ).all()
    headless = Counter(
        (
            await db.scalars(
                select(SchoolClass.school_id).where(
                    SchoolClass.school_id.in_(ids), SchoolClass.head_teacher_id.is_(None)
                )
            )
        ).all()
    )
    out = {}
    for school in schools:
        mine = [u for u in staff if u.school_id == school.id]
        counsellors = [u for u in mine if u.role == "counsellor"]
        part = sum(1 for u in counsellors if u.part_time)
        out[school.id] = SchoolWork(
            school_id=school.id,
            open_cases=open_cases.get(school.id, 0),
            overdue_tasks=overdue.get(school.id, 0),
            counsellors_full_time=len(counsellors) - part,
            counsellors_part_time=part,
            leads=sum(1 for u in mine if u.role == "school_lead"),
            classes_without_head=headless.get(school.id, 0),
            counselling_room=bool((school.counselling_room or "").strip()),
        )
    return out


@dataclass(frozen=True)
class Escalation:
    case_id: uuid.UUID
    school_name: str
    grade: int
    tier: str
    status: str
    escalation_level: int
    opened_at: datetime
    acknowledge_by: datetime


async def escalations(db: AsyncSession, user: StaffUser, *, now: datetime) -> list[Escalation]:
    """Active cases of the district that the escalation ladder moved up (level ≥ 1), by
    acknowledge deadline. No names: the officer opens the case to act. Audited."""
    require_role(user, {"district_officer"}, "read escalations")
    rows = (
        await db.execute(
            select(Case, School, SchoolClass)
            .join(School, School.id == Case.school_id)
            .join(Student, Student.id == Case.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(
                School.district_id == user.district_id,
                Case.status.in_(OPEN_STATES),
                Case.escalation_level >= 1,
            )
            .order_by(Case.acknowledge_by)
        )
    ).all()
    out = [
        Escalation(
            c.id,
            s.name,
            k.grade,
            c.tier,
            c.status,
            c.escalation_level,
            c.opened_at,
            c.acknowledge_by,
        )
        for c, s, k in rows
    ]
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="cases.escalations",
        subject_type="case",
        subject_ids=[e.case_id for e in out],
        school_id=None,
        now=now,
    )
    return out


async def school_names(db: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {
        s.id: s.name for s in (await db.scalars(select(School).where(School.id.in_(ids)))).all()
    }
