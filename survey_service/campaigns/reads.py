"""Reads for the school and district dashboards: open tasks, each school's work and
timeliness, escalations. Counts and deadlines; individual students only where the role may
see them (audited); nothing ordered by a score.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import schools_in_scope, scope_of
from survey_service.accounts.views import lens_of
from survey_service.campaigns import coverage
from survey_service.cases.service import OPEN_STATES
from survey_service.db import (
    AsyncSession,
    Campaign,
    Case,
    CaseTask,
    School,
    SchoolClass,
    StaffUser,
    Student,
)
from survey_service.errors import Forbidden, NotFound
from survey_service.services import audit


@dataclass(frozen=True)
class TaskRow:
    task_id: uuid.UUID
    case_id: uuid.UUID
    school_name: str
    student_name: str | None  # None in the aggregate view (district officer), as class_name
    grade: int
    class_name: str | None
    kind: str
    assignee_role: str | None
    due_at: datetime
    status: str
    overdue: bool


async def _scope_schools(db: AsyncSession, user: StaffUser) -> list[School]:
    permissions.require(user, "dashboards.read")
    if scope_of(user) != "district" and user.school_id is None:
        raise Forbidden("This account is not attached to a school", code="no_school")
    return await schools_in_scope(db, user)


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
    lens = lens_of(user)
    out = [
        TaskRow(
            t.id,
            c.id,
            schools[c.school_id].name,
            s.name if lens.identity else None,
            k.grade,
            k.name if lens.identity else None,
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
    tier: str
    status: str
    escalation_level: int
    opened_at: datetime
    acknowledge_by: datetime


async def escalations(db: AsyncSession, user: StaffUser, *, now: datetime) -> list[Escalation]:
    """Active cases of the district that the escalation ladder moved up (level ≥ 1), by
    acknowledge deadline. No names, classes or grades (the district's aggregate view): the
    officer opens the de-identified case to act. Audited."""
    permissions.require(user, "escalations.read")
    rows = (
        await db.execute(
            select(Case, School)
            .join(School, School.id == Case.school_id)
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
            c.tier,
            c.status,
            c.escalation_level,
            c.opened_at,
            c.acknowledge_by,
        )
        for c, s in rows
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


@dataclass(frozen=True)
class CampaignChoice:
    campaign_id: uuid.UUID
    name: str
    school_year: str
    opens_at: datetime
    school_id: uuid.UUID | None = None
    school_name: str = ""


async def campaign_choices(db: AsyncSession, user: StaffUser) -> list[CampaignChoice]:
    """The campaigns of the caller's school, or of every school of a district officer's
    district, newest first (a dashboard's campaign selector)."""
    permissions.require(user, "coverage.read")
    if scope_of(user) == "district":
        schools = {s.id: s for s in await schools_in_scope(db, user)}
    elif user.school_id is None:
        return []
    else:
        school = await db.get(School, user.school_id)
        schools = {school.id: school} if school is not None else {}
    if not schools:
        return []
    rows = (
        await db.scalars(
            select(Campaign)
            .where(Campaign.school_id.in_(list(schools)))
            .order_by(Campaign.opens_at.desc(), Campaign.name)
        )
    ).all()
    return [
        CampaignChoice(
            c.id, c.name, c.school_year, c.opens_at, c.school_id, schools[c.school_id].name
        )
        for c in rows
    ]


@dataclass(frozen=True)
class CampaignGroup:
    """One entry of the district's campaign selector: the campaigns of one name and school
    year across the district's schools (a district runs "the same" screening as one campaign
    per school). ``campaign_id`` (the newest of them) is the ``?campaign=`` value."""

    campaign_id: uuid.UUID
    name: str
    school_year: str
    campaign_ids: tuple[uuid.UUID, ...]
    school_names: tuple[str, ...]


def campaign_groups(choices: list[CampaignChoice]) -> list[CampaignGroup]:
    """Campaigns grouped by (school year, name), newest group first."""
    groups: dict[tuple[str, str], list[CampaignChoice]] = {}
    for c in choices:  # newest first, so each group's first is its newest
        groups.setdefault((c.school_year, c.name), []).append(c)
    return [
        CampaignGroup(
            members[0].campaign_id,
            name,
            year,
            tuple(m.campaign_id for m in members),
            tuple(sorted({m.school_name for m in members})),
        )
        for (year, name), members in groups.items()
    ]


@dataclass(frozen=True)
class DistrictCoverage:
    """The district dashboard's coverage: of each school's latest campaign (``chosen`` is
    None), or of the chosen campaign group in each school that ran it."""

    report: coverage.CoverageReport
    groups: list[CampaignGroup]
    chosen: CampaignGroup | None
    school_count: int


async def district_coverage(
    db: AsyncSession, user: StaffUser, *, campaign_id: uuid.UUID | None, now: datetime
) -> DistrictCoverage:
    """Coverage per school of the campaign group that ``campaign_id`` belongs to (a campaign of
    another district answers 404 like a missing one), or of each school's latest campaign."""
    groups = campaign_groups(await campaign_choices(db, user))
    schools = await schools_in_scope(db, user)
    if campaign_id is None:
        report = await coverage.coverage(db, user, campaign_id=None, now=now)
        return DistrictCoverage(report, groups, None, len(schools))
    chosen = next((g for g in groups if campaign_id in g.campaign_ids), None)
    if chosen is None:
        raise NotFound("No such campaign", code="campaign_not_found")
    rows: dict[uuid.UUID, coverage.SchoolCoverage] = {}
    for cid in chosen.campaign_ids:  # newest first: a school's newest of the group counts
        for row in (await coverage.coverage(db, user, campaign_id=cid, now=now)).schools:
            known = rows.get(row.school_id)
            if known is None or (known.campaign_id is None and row.campaign_id is not None):
                rows[row.school_id] = row
    order = {s.id: i for i, s in enumerate(schools)}  # by school code
    merged = sorted(rows.values(), key=lambda r: order.get(r.school_id, len(order)))
    report = coverage.CoverageReport(scope="district", generated_at=now, schools=merged, classes=[])
    return DistrictCoverage(report, groups, chosen, len(schools))


def class_label(school_name: str, class_name: str, *, with_school: bool) -> str:
    """A class as a list names it: with its school wherever the list spans several schools
    ("润心实验中学 七年级1班"), a bare class name cannot say which school's class it is."""
    return f"{school_name} {class_name}" if with_school else class_name


async def student_numbers(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Student numbers of students the caller already read through a scoped, audited list
    (the queue, a head teacher's class): a list's search matches them, and the API's
    ``StudentRef`` carries none."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(
        select(Student.id, Student.student_number).where(Student.id.in_(wanted))
    )
    return {sid: number for sid, number in rows.all()}
