"""Cases: opened from a triage result, listed by urgency, acknowledged by the care team."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import msgspec
from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope, scope_filter, scope_of
from survey_service.accounts.views import Lens, lens_for, lens_of
from survey_service.cases.events import case_event
from survey_service.cases.schemas import (
    CaseDetail,
    CaseEventOut,
    CaseList,
    CaseOut,
    CaseTaskOut,
    ContactOut,
    NotifiedOut,
    ReasonOut,
    StudentRef,
)
from survey_service.db import (
    AsyncSession,
    Case,
    CaseEvent,
    CaseTask,
    OutboxMessage,
    School,
    SchoolClass,
    StaffUser,
    Student,
    TriageRecord,
)
from survey_service.errors import Conflict
from survey_service.notifications.service import enqueue_case_notification
from survey_service.schools.calendars import school_calendar
from survey_service.services import audit
from survey_service.services.runtime import Runtime

# Every state but closed: a case being assessed, treated, monitored or referred is still open,
# so a rescreen or an observation joins it instead of opening a second case.
OPEN_STATES = triage.OPEN_CASE_STATES
# Pathways about suicide risk: the red crisis and the orange suicide pathway.
SUICIDE_PATHWAYS = ("crisis", "suicide")


def as_tier(value: str) -> triage.Tier:
    if value not in triage.TIER_ORDER:
        raise ValueError(f"unknown tier {value!r}")
    return cast(triage.Tier, value)


async def find_open_case(
    db: AsyncSession, student_id: uuid.UUID, *, student_locked: bool = False
) -> Case | None:
    """The student's open (not closed) case, if any, locked for this transaction.

    The student's row is locked first: ``FOR UPDATE`` on the open case locks nothing while
    there is none, so two transactions at the same moment (two sessions of one student, a
    student and a guardian, an observation and a submission) would both find no case and both
    open one (PostgreSQL, issue 18). With the student's row as the lock, the second waits and
    then finds the first one's case. ``FOR NO KEY UPDATE``: the rows a submission has already
    written refer to the student and hold ``FOR KEY SHARE`` on it, which this lock does not
    wait for (``FOR UPDATE`` would, and two submissions would deadlock). SQLite has one writer
    at a time and ignores the clause. ``student_locked``: the caller has locked it already.
    """
    if not student_locked:
        await db.execute(
            select(Student.id).where(Student.id == student_id).with_for_update(key_share=True)
        )
    return await db.scalar(
        select(Case)
        .where(Case.student_id == student_id, Case.status.in_(OPEN_STATES))
        .order_by(Case.opened_at.desc())
        .limit(1)
        .with_for_update()
    )


# Who does each kind of task (checklist items 13, 14, 17): head teachers hold the one-to-one
# talks and join home visits; everything else is the counsellor's.
HEAD_TEACHER_TASKS = {
    "home_visit",
    "talk_start_of_term",
    "talk_before_midterm",
    "talk_after_midterm",
    "talk_before_final",
    "talk_after_final",
}


def as_case_tier(value: str) -> triage.CaseTier:
    if value not in ("yellow", "orange", "red"):
        raise ValueError(f"not a case tier: {value!r}")
    return cast(triage.CaseTier, value)


def add_task(
    db: AsyncSession,
    case: Case,
    *,
    kind: str,
    due_at: datetime,
    calendar: triage.SchoolCalendar,
    policy: triage.Policy,
    data: dict[str, object] | None = None,
) -> CaseTask:
    """Add a task with its overdue ladder (re-notify, then escalate, each step once)."""
    ladder = triage.task_escalation_ladder(
        due_at, tier=as_case_tier(case.tier), calendar=calendar, policy=policy
    )
    task = CaseTask(
        case_id=case.id,
        kind=kind,
        due_at=due_at,
        status="open",
        completed_at=None,
        assignee_role="head_teacher" if kind in HEAD_TEACHER_TASKS else "counsellor",
        escalation_level=0,
        ladder=_ladder_json(ladder),
        next_escalation_at=ladder[0].due_at if ladder else None,
        data=dict(data or {}),
    )
    db.add(task)
    return task


async def complete_acknowledge_tasks(
    db: AsyncSession, case: Case, user: StaffUser, now: datetime
) -> None:
    """Acknowledging a case is what its ``acknowledge`` task asks for: mark it done."""
    tasks = await db.scalars(
        select(CaseTask).where(
            CaseTask.case_id == case.id, CaseTask.kind == "acknowledge", CaseTask.status == "open"
        )
    )
    for task in tasks.all():
        task.status, task.completed_at, task.completed_by = "done", now, user.id
        task.next_escalation_at = None


def _ladder_json(steps: tuple[triage.EscalationStep, ...]) -> list[dict[str, object]]:
    return [{"level": s.level, "role": s.role, "due_at": s.due_at.isoformat()} for s in steps]


def ladder_steps(case: Case) -> tuple[triage.EscalationStep, ...]:
    """The stored escalation ladder of ``case`` as domain objects."""
    return tuple(
        triage.EscalationStep(
            level=int(s["level"]), role=s["role"], due_at=datetime.fromisoformat(s["due_at"])
        )
        for s in case.ladder
    )


async def open_or_update_case(
    db: AsyncSession,
    rt: Runtime,
    *,
    student: Student,
    school: School,
    result: triage.TriageResult,
    triage_row: TriageRecord,
    open_case: Case | None,
    now: datetime,
) -> Case:
    """Open a case for a tier of yellow or above, or raise the open case's tier.

    A higher tier on an open case restarts acknowledgement and escalation for that tier; so
    does the same tier on a suicide pathway when the open case is on another (e.g. an orange
    ``severity`` case that now has a suicide answer or a self-harm observation: the suicide
    pathway's wall-clock deadlines and on-call paging apply, issue 11). Any other lower or
    equal result only records a ``rescreened`` event (a tier is never lowered here).
    """
    calendar, school_year = await school_calendar(db, school, now)
    policy = rt.policy_for(school.code)
    deadlines = triage.compute_deadlines(result, submitted_at=now, calendar=calendar, policy=policy)
    ladder = triage.escalation_ladder(
        result.tier, acknowledge_by=deadlines.acknowledge_by, calendar=calendar, policy=policy
    )
    reasons = [msgspec.to_builtins(r) for r in result.reasons]
    if open_case is not None:
        pathway_raised = (
            result.tier == open_case.tier
            and result.pathway in SUICIDE_PATHWAYS
            and open_case.pathway not in SUICIDE_PATHWAYS
        )
        if triage.TIER_ORDER[result.tier] <= triage.TIER_ORDER[open_case.tier] and (
            not pathway_raised
        ):
            db.add(
                case_event(
                    open_case.id,
                    "rescreened",
                    at=now,
                    data={"tier": result.tier, "triage_id": str(triage_row.id)},
                )
            )
            return open_case
        previous, previous_pathway = open_case.tier, open_case.pathway
        case = open_case
        case.tier = result.tier
        case.pathway = result.pathway
        case.triage_id = triage_row.id
        case.status = "open"
        case.acknowledged_at = None
        case.acknowledged_by = None
        case.escalation_level = 0
        case.acknowledge_by = deadlines.acknowledge_by
        case.ladder = _ladder_json(ladder)
        case.next_escalation_at = ladder[0].due_at if ladder else None
        if pathway_raised:
            event, data = (
                "pathway_raised",
                {"from": previous_pathway, "to": result.pathway, "reasons": reasons},
            )
        else:
            event, data = "tier_raised", {"from": previous, "to": result.tier, "reasons": reasons}
    else:
        case = Case(
            id=uuid.uuid4(),
            student_id=student.id,
            school_id=school.id,
            triage_id=triage_row.id,
            tier=result.tier,
            pathway=result.pathway,
            status="open",
            opened_at=now,
            acknowledge_by=deadlines.acknowledge_by,
            acknowledged_at=None,
            acknowledged_by=None,
            escalation_level=0,
            ladder=_ladder_json(ladder),
            next_escalation_at=ladder[0].due_at if ladder else None,
            closed_at=None,
        )
        db.add(case)
        await db.flush()
        event, data = "opened", {"tier": result.tier, "reasons": reasons}
    db.add(case_event(case.id, event, at=now, data=data))
    due: list[tuple[str, datetime, str | None]] = [
        (t.kind, t.due_at, None) for t in deadlines.tasks
    ]
    if school_year is not None and open_case is None:
        care = triage.generate_care_tasks(
            as_case_tier(result.tier),
            opened_at=now,
            calendar=calendar,
            policy=policy,
            school_year=school_year,
        )
        planned = {kind for kind, _, _ in due}  # e.g. yellow's re-screen: keep one per kind
        due += [(t.kind, t.due_at, t.key) for t in care if t.kind not in planned]
    for kind, due_at, key in due:
        add_task(
            db,
            case,
            kind=kind,
            due_at=due_at,
            calendar=calendar,
            policy=policy,
            data={"key": key} if key else {},
        )
    await db.flush()
    await enqueue_case_notification(
        db,
        case=case,
        event=f"case.{event}",
        level=case.escalation_level,
        recipient_role="counsellor",
        deadline=case.acknowledge_by,
        base_url=rt.settings.base_url,
        now=now,
    )
    return case


async def list_cases(db: AsyncSession, user: StaffUser, *, now: datetime) -> CaseList:
    """Every case not closed in the caller's scope (the queue of the API and of the pages).

    Sorted by deadline, then tier (red first), then opening time — never by score. The
    deadline is the acknowledgement deadline while a case is open (or has no open task), else
    the due time of its next open task.
    """
    permissions.require(user, "cases.list")
    query = (
        select(Case, Student, SchoolClass, TriageRecord, School)
        .join(Student, Student.id == Case.student_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .join(TriageRecord, TriageRecord.id == Case.triage_id)
        .join(School, School.id == Case.school_id)
        .where(
            Case.status.in_(OPEN_STATES),
            scope_filter(user, school_id=Case.school_id, class_id=Student.class_id),
        )
    )
    rows = (await db.execute(query)).all()
    next_tasks = await _next_open_tasks(db, [c.id for c, _, _, _, _ in rows])
    lens = lens_of(user)  # a list is never widened by a break-glass grant
    items = [
        _case_out(c, s, k, t, now, lens=lens, school=school, next_open=next_tasks.get(c.id))
        for c, s, k, t, school in rows
    ]
    items.sort(key=_queue_order)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="cases.list",
        subject_type="case",
        subject_ids=[i.case_id for i in items],
        school_id=None if scope_of(user) == "district" else user.school_id,
        now=now,
    )
    return CaseList(items=items, count=len(items), sort="deadline,tier,opened_at")


def _queue_order(c: CaseOut) -> tuple[datetime, int, datetime]:
    """Deadline, then tier (red first), then opening time. Never a score."""
    return (c.deadline or c.acknowledge_by, -triage.TIER_ORDER[c.tier], c.opened_at)


async def _next_open_tasks(
    db: AsyncSession, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CaseTask]:
    """The open task due first of each case (cases without one are left out)."""
    if not case_ids:
        return {}
    tasks = (
        await db.scalars(
            select(CaseTask)
            .where(CaseTask.case_id.in_(case_ids), CaseTask.status == "open")
            .order_by(CaseTask.due_at)
        )
    ).all()
    first: dict[uuid.UUID, CaseTask] = {}
    for task in tasks:
        first.setdefault(task.case_id, task)
    return first


def _case_out(
    case: Case,
    student: Student,
    klass: SchoolClass,
    triage_row: TriageRecord,
    now: datetime,
    *,
    lens: Lens,
    school: School | None = None,
    next_open: CaseTask | None = None,
) -> CaseOut:
    """The case as the API shows it; with ``school`` (the queue) also the school's name, the
    next task and the deadline the queue sorts by. Through ``lens`` (the reader's field view):
    the student only with identities, the reasons only in the full view."""
    deadline: datetime | None = None
    next_kind: str | None = None
    if school is not None:
        if case.status == "open" or next_open is None:
            deadline = case.acknowledge_by
            next_kind = "acknowledge" if case.status == "open" else None
        else:
            deadline, next_kind = next_open.due_at, next_open.kind
    return CaseOut(
        case_id=case.id,
        tier=case.tier,
        pathway=case.pathway,
        status=case.status,
        opened_at=case.opened_at,
        acknowledge_by=case.acknowledge_by,
        acknowledged_at=case.acknowledged_at,
        overdue=case.acknowledged_at is None and now > case.acknowledge_by,
        escalation_level=case.escalation_level,
        school_id=case.school_id,
        student=StudentRef(
            student_id=student.id,
            name=student.name,
            grade=klass.grade,
            class_name=klass.name,
            class_id=klass.id,
        )
        if lens.identity
        else None,
        reasons=[ReasonOut(rule_id=r["rule_id"], text=r["text"]) for r in triage_row.reasons]
        if lens.clinical
        else [],
        school_name=school.name if school is not None else None,
        next_task=next_kind,
        deadline=deadline,
        view=lens.view.value,
        break_glass_until=lens.break_glass_until,
    )


async def acknowledge(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, *, note: str | None, now: datetime
) -> CaseOut:
    """Acknowledge a case: stops its escalation ladder and records who and when."""
    permissions.require(user, "cases.acknowledge")
    case = await case_in_scope(db, user, case_id, for_update=True)
    if case.status != "open":
        raise Conflict(
            f"The case is {case.status}, not open; it was acknowledged at "
            f"{case.acknowledged_at.isoformat() if case.acknowledged_at else 'an earlier time'}",
            code="case_not_open",
        )
    case.status = "acknowledged"
    case.acknowledged_at = now
    case.acknowledged_by = user.id
    case.next_escalation_at = None
    await complete_acknowledge_tasks(db, case, user, now)
    db.add(
        case_event(
            case.id,
            "acknowledged",
            at=now,
            actor_id=user.id,
            note=note,
            data={"escalation_level": case.escalation_level},
        )
    )
    student = await db.get_one(Student, case.student_id)
    klass = await db.get_one(SchoolClass, student.class_id)
    triage_row = await db.get_one(TriageRecord, case.triage_id)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="case.acknowledge",
        subject_type="case",
        subject_ids=[case.id],
        school_id=case.school_id,
        now=now,
    )
    lens = await lens_for(db, user, now=now, case_id=case.id)
    return _case_out(case, student, klass, triage_row, now, lens=lens)


async def case_detail(
    db: AsyncSession, user: StaffUser, case_id: uuid.UUID, *, now: datetime
) -> CaseDetail:
    """One case in the caller's scope with tasks and events (audited as a read)."""
    permissions.require(user, "cases.read")
    case = await case_in_scope(db, user, case_id)
    student = await db.get_one(Student, case.student_id)
    klass = await db.get_one(SchoolClass, student.class_id)
    triage_row = await db.get_one(TriageRecord, case.triage_id)
    tasks = (
        await db.scalars(
            select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.due_at)
        )
    ).all()
    events = (
        await db.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at)
        )
    ).all()
    lens = await lens_for(db, user, now=now, case_id=case.id)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="case.read",
        subject_type="case",
        subject_ids=[case.id],
        school_id=case.school_id,
        now=now,
    )
    return CaseDetail(
        case=msgspec.structs.replace(
            _case_out(case, student, klass, triage_row, now, lens=lens),
            school_name=(await db.get_one(School, case.school_id)).name,
        ),
        tasks=[
            CaseTaskOut(
                task_id=t.id,
                kind=t.kind,
                due_at=t.due_at,
                status=t.status,
                overdue=t.status == "open" and now > t.due_at,
                assignee_role=t.assignee_role,
                completed_at=t.completed_at,
            )
            for t in tasks
        ],
        events=[
            # Notes are free text about the student: none in the aggregate view.
            CaseEventOut(
                kind=e.kind, at=e.at, actor_id=e.actor_id, note=e.note if lens.identity else None
            )
            for e in events
        ],
        notified=await _notified(db, case.id),
        contacts=await _contacts(db, case.school_id),
    )


async def _notified(db: AsyncSession, case_id: uuid.UUID) -> list[NotifiedOut]:
    """Every notification queued about the case, oldest first: to whom, on which channel,
    delivered or not (never its content)."""
    rows = (
        await db.execute(
            select(OutboxMessage, StaffUser.display_name)
            .outerjoin(StaffUser, StaffUser.id == OutboxMessage.recipient_user_id)
            .where(OutboxMessage.case_id == case_id)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    ).all()
    return [
        NotifiedOut(
            event=m.event,
            recipient_role=m.recipient_role,
            channel=m.channel,
            recipient=name,
            status=m.status,
            created_at=m.created_at,
            escalation_level=int(str(m.payload.get("escalation_level", 0))),
        )
        for m, name in rows
    ]


async def _contacts(db: AsyncSession, school_id: uuid.UUID) -> list[ContactOut]:
    """The school's active school leads and counsellors (whom the district calls)."""
    rows = (
        await db.scalars(
            select(StaffUser)
            .where(
                StaffUser.school_id == school_id,
                StaffUser.active.is_(True),
                StaffUser.role.in_(("school_lead", "counsellor")),
            )
            .order_by(StaffUser.role.desc(), StaffUser.display_name)
        )
    ).all()
    return [ContactOut(role=u.role, name=u.display_name, phone=u.phone) for u in rows]
