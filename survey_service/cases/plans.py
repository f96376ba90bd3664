"""The crisis-intervention plan (一生一策): versioned, one per student under care."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.cases import views as care_views
from survey_service.cases.events import case_event
from survey_service.cases.schemas import PlanOut
from survey_service.cases.service import find_open_case
from survey_service.db import AsyncSession, CrisisPlan, School, StaffUser
from survey_service.errors import NotFound, Unprocessable
from survey_service.services import audit


async def save_plan(
    db: AsyncSession,
    user: StaffUser,
    student_id: uuid.UUID,
    *,
    content: dict[str, Any],
    review_on: date,
    now: datetime,
) -> PlanOut:
    """Store a new version of the student's plan after checking it (``triage.validate_plan``)."""
    permissions.require(user, "plans.write")
    student = await student_in_scope(db, user, student_id)
    school = await db.get_one(School, student.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    latest = await db.scalar(
        select(CrisisPlan)
        .where(CrisisPlan.student_id == student.id)
        .order_by(CrisisPlan.version.desc())
        .limit(1)
    )
    previous = msgspec.convert(latest.content, triage.CrisisPlan) if latest else None
    try:
        plan = msgspec.convert(
            {
                **content,
                "version": (latest.version + 1) if latest else 1,
                "review_on": review_on.isoformat(),
            },
            triage.CrisisPlan,
        )
        triage.validate_plan(plan, today=today, previous=previous)
    except (msgspec.ValidationError, ValueError) as exc:
        raise Unprocessable(f"the plan is not valid: {exc}", code="invalid_plan") from exc
    case = await find_open_case(db, student.id)
    row = CrisisPlan(
        student_id=student.id,
        case_id=case.id if case else None,
        version=plan.version,
        content=msgspec.to_builtins(plan),
        review_on=review_on,
        created_by=user.id,
        created_at=now,
    )
    db.add(row)
    if case is not None:
        db.add(
            case_event(
                case.id, "plan.saved", at=now, actor_id=user.id, data={"version": row.version}
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="plan.write",
        subject_type="student",
        subject_ids=[student.id],
        school_id=student.school_id,
        now=now,
    )
    return care_views.plan(row)


async def current_plan(
    db: AsyncSession, user: StaffUser, student_id: uuid.UUID, *, now: datetime
) -> PlanOut:
    permissions.require(user, "plans.read")
    student = await student_in_scope(db, user, student_id)
    row = await db.scalar(
        select(CrisisPlan)
        .where(CrisisPlan.student_id == student.id)
        .order_by(CrisisPlan.version.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound("This student has no crisis plan yet", code="plan_not_found")
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="plan.read",
        subject_type="student",
        subject_ids=[student.id],
        school_id=student.school_id,
        now=now,
    )
    return care_views.plan(row)
