"""The crisis-intervention plan (一生一策): versioned, one per student under care."""

from __future__ import annotations

import re
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

#: The plan's fields as the form names them (zh-CN, en).
_PLAN_FIELDS = {
    "warning_signs": ("预警信号", "Warning signs"),
    "coping_steps": ("应对步骤", "Coping steps"),
    "means_safety": ("危险物品管控", "Means safety"),
    "contacts": ("联系人", "Contacts"),
    "review_on": ("复核日期", "Review date"),
}
_CONTACT_PARTS = {
    "name": ("姓名", "name"),
    "relation": ("关系", "relation"),
    "phone": ("电话", "phone"),
}
_PROBLEM = re.compile(r"(?P<field>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<part>[a-z]+))?")


def _explain(problem: str) -> tuple[str, str]:
    """One of ``triage.validate_plan``'s problems (each names its field first) in both
    languages, as the plan form words it."""
    found = _PROBLEM.match(problem)
    field = found.group("field") if found else ""
    if field == "version":
        return (
            "方案刚被他人更新，请重新打开后再保存。",
            "Someone else has just saved the plan: reopen it and save again.",
        )
    if field == "review_on":
        return ("复核日期须晚于今天。", "The review date must be after today.")
    zh, en = _PLAN_FIELDS.get(field, ("方案", "The plan"))
    if found is None or found.group("index") is None:
        return (f"{zh}：至少填写一项。", f"{en}: give at least one.")
    row = int(found.group("index")) + 1
    part = found.group("part")
    if field == "contacts" and part in _CONTACT_PARTS:
        pzh, pen = _CONTACT_PARTS[part]
        if part == "phone":
            return (
                f"{zh}第 {row} 行：{pzh}号码不正确。",
                f"{en}, line {row}: the {pen} number is not valid.",
            )
        return (f"{zh}第 {row} 行：请填写{pzh}。", f"{en}, line {row}: give the {pen}.")
    return (f"{zh}第 {row} 行不能为空。", f"{en}, line {row}, is empty.")


def explain_plan_problems(problems: tuple[str, ...]) -> dict[str, str]:
    """The plan's problems as the form's error message, ``{"zh-CN": ..., "en": ...}``; each
    problem once, in the order found."""
    pairs = list(dict.fromkeys(_explain(p) for p in problems))
    return {"zh-CN": "".join(zh for zh, _ in pairs), "en": " ".join(en for _, en in pairs)}


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
    except triage.PlanError as exc:
        raise Unprocessable(
            f"the plan is not valid: {exc}",
            code="invalid_plan",
            message=explain_plan_problems(exc.problems),
        ) from exc
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
