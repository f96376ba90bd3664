"""Care work on a case: state transitions, tier decisions, tasks, talks and notes.

Every change is a case event with actor, time and note; the state machine and the tier rules
are the pure ones in :mod:`triage`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope
from survey_service.cases import views as care_views
from survey_service.cases.events import case_event
from survey_service.cases.schemas import CaseStateOut, RecordOut, TaskOut
from survey_service.cases.service import complete_acknowledge_tasks
from survey_service.db import (
    AsyncSession,
    CareRecord,
    CaseTask,
    StaffUser,
)
from survey_service.errors import Conflict, Forbidden, NotFound, Unprocessable
from survey_service.services import audit

RECORD_KINDS = {"talk", "home_visit", "guardian_contact", "assessment", "note"}
# A completed task of these kinds also files a care record in the student's file.
TASK_RECORD_KIND = {
    "home_visit": "home_visit",
    "guardian_contact": "guardian_contact",
    "safety_assessment": "assessment",
    "counsellor_assessment": "assessment",
    "counsellor_interview": "talk",
    "one_to_one_talk": "talk",
}


async def apply_action(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    action: str,
    note: str | None,
    now: datetime,
) -> CaseStateOut:
    """Move a case through the state machine (``triage.next_state``); 409 when illegal."""
    permissions.require(user, "cases.act")
    case = await case_in_scope(db, user, case_id, for_update=True)
    try:
        new_state = triage.next_state(case.status, action)  # type: ignore[arg-type]
    except triage.IllegalTransition as exc:
        raise Conflict(str(exc), code="illegal_transition") from exc
    if action == "close":
        try:
            triage.check_close(note)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="close_reason_required") from exc
        case.closed_at = now
        case.closed_reason = note
    if action == "reopen":
        case.closed_at = None
        case.closed_reason = None
    previous = case.status
    case.status = new_state
    if new_state != "open":
        case.next_escalation_at = None  # escalation of the acknowledgement stops
    if action == "acknowledge":
        case.acknowledged_at = now
        case.acknowledged_by = user.id
        await complete_acknowledge_tasks(db, case, user, now)
    db.add(
        case_event(
            case.id,
            f"state.{action}",
            at=now,
            actor_id=user.id,
            note=note,
            data={"from": previous, "to": new_state},
        )
    )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action=f"case.{action}",
        subject_type="case",
        subject_ids=[case.id],
        school_id=case.school_id,
        now=now,
    )
    return care_views.case_state(case)


async def change_tier(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    tier: str,
    reason: str,
    now: datetime,
) -> CaseStateOut:
    """A recorded tier decision; lowering needs a counsellor and a reason (DESIGN.md)."""
    permissions.require(user, "cases.tier")
    case = await case_in_scope(db, user, case_id, for_update=True)
    if tier not in triage.TIER_ORDER or tier == "green":
        raise Unprocessable(
            f"tier must be one of yellow, orange, red (got {tier!r}); close the case instead "
            "of setting it green",
            code="invalid_tier",
        )
    try:
        triage.check_tier_change(case.tier, tier, reason=reason, role=user.role)  # type: ignore[arg-type]
    except ValueError as exc:
        raise Forbidden(str(exc), code="tier_change_refused") from exc
    previous = case.tier
    case.tier = tier
    db.add(
        case_event(
            case.id,
            "tier_decision",
            at=now,
            actor_id=user.id,
            note=reason,
            data={"from": previous, "to": tier},
        )
    )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="case.tier_decision",
        subject_type="case",
        subject_ids=[case.id],
        school_id=case.school_id,
        now=now,
    )
    return care_views.case_state(case)


async def add_record(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    kind: str,
    summary: str,
    at: datetime | None,
    now: datetime,
) -> RecordOut:
    """File a talk, home visit, guardian contact, assessment or note on a case."""
    if kind not in RECORD_KINDS:
        raise Unprocessable(
            f"kind must be one of {', '.join(sorted(RECORD_KINDS))} (got {kind!r})",
            code="invalid_record_kind",
        )
    if not summary.strip():
        raise Unprocessable("summary must not be empty", code="empty_summary")
    permissions.require(user, "records.add")
    case = await case_in_scope(db, user, case_id)  # a head teacher: their classes' cases
    if at is not None and at > now:
        raise Unprocessable("a record cannot be dated in the future", code="future_record")
    record = CareRecord(
        student_id=case.student_id,
        case_id=case.id,
        kind=kind,
        at=at or now,
        staff_id=user.id,
        summary=summary,
    )
    db.add(record)
    await db.flush()  # ids are assigned at flush; the reply carries it
    db.add(case_event(case.id, f"record.{kind}", at=now, actor_id=user.id, data={}))
    return care_views.record(record)


async def complete_task(
    db: AsyncSession,
    user: StaffUser,
    task_id: uuid.UUID,
    *,
    note: str | None,
    now: datetime,
) -> TaskOut:
    """Mark a task done; its escalation stops. A head teacher completes only their tasks."""
    role = permissions.require(user, "tasks.complete")
    task = await db.scalar(select(CaseTask).where(CaseTask.id == task_id).with_for_update())
    if task is None:
        raise NotFound("No such task", code="task_not_found")
    case = await case_in_scope(db, user, task.case_id)  # a head teacher: their classes' cases
    if role == permissions.Role.HEAD_TEACHER and task.assignee_role != role:
        raise Forbidden("This task is not assigned to the head teacher", code="task_not_assigned")
    if task.status != "open":
        raise Conflict(f"The task is already {task.status}", code="task_not_open")
    task.status = "done"
    task.completed_at = now
    task.completed_by = user.id
    task.note = note
    task.next_escalation_at = None
    db.add(
        case_event(
            case.id,
            "task.done",
            at=now,
            actor_id=user.id,
            note=note,
            data={"task_id": str(task.id), "kind": task.kind},
        )
    )
    record_kind = TASK_RECORD_KIND.get(task.kind)
    if record_kind is not None and note:
        db.add(
            CareRecord(
                student_id=case.student_id,
                case_id=case.id,
                kind=record_kind,
                at=now,
                staff_id=user.id,
                summary=note,
            )
        )
    return care_views.task(task)
