"""Referrals to a partner hospital through the green channel (checklist item 4)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope
from survey_service.cases import views as care_views
from survey_service.cases.events import case_event
from survey_service.cases.schemas import ReferralOut
from survey_service.cases.service import add_task
from survey_service.db import AsyncSession, Case, CaseTask, Referral, School, StaffUser
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.schools.calendars import school_calendar
from survey_service.services.runtime import Runtime


async def refer(
    db: AsyncSession,
    rt: Runtime,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    hospital: str,
    note: str | None,
    now: datetime,
) -> ReferralOut:
    """Record a referral (stage ``sent``) and a follow-up task for its next stage."""
    permissions.require(user, "referrals.create")
    if not hospital.strip():
        raise Unprocessable(
            "hospital must not be empty",
            code="invalid_hospital",
            message={"zh-CN": "请填写转介的医院。", "en": "Name the hospital referred to."},
        )
    case = await case_in_scope(db, user, case_id)
    referral = Referral(
        case_id=case.id,
        student_id=case.student_id,
        hospital=hospital.strip(),
        stage="sent",
        sent_at=now,
        updated_at=now,
        feedback=None,
    )
    db.add(referral)
    await db.flush()
    db.add(
        case_event(
            case.id,
            "referral.sent",
            at=now,
            actor_id=user.id,
            note=note,
            data={"referral_id": str(referral.id), "hospital": referral.hospital},
        )
    )
    await _follow_up(db, rt, case, referral, now)
    return care_views.referral(referral)


async def advance(
    db: AsyncSession,
    rt: Runtime,
    user: StaffUser,
    referral_id: uuid.UUID,
    *,
    stage: str,
    feedback: str | None,
    now: datetime,
) -> ReferralOut:
    """Move a referral to its next stage: sent → accepted → seen → feedback (in order)."""
    permissions.require(user, "referrals.advance")
    referral = await db.get(Referral, referral_id)
    if referral is None:
        raise NotFound(
            "No such referral",
            code="referral_not_found",
            message={"zh-CN": "没有找到这条转介记录。", "en": "No such referral."},
        )
    case = await case_in_scope(db, user, referral.case_id)
    if stage not in triage.REFERRAL_STAGES:
        raise Unprocessable(
            f"stage must be one of {', '.join(triage.REFERRAL_STAGES)}",
            code="invalid_stage",
            message={
                "zh-CN": "请选择转介的下一步：医院已接收、已就诊或已反馈。",
                "en": "Choose the referral's next stage: accepted, seen or feedback.",
            },
        )
    try:
        triage.check_referral_advance(referral.stage, stage)  # type: ignore[arg-type]
    except ValueError as exc:
        raise Conflict(
            str(exc),
            code="referral_stage_order",
            message={
                "zh-CN": "转介要按顺序推进：已发出 → 医院已接收 → 已就诊 → 已反馈。"
                "这一步已经记录过，或者还没到这一步。",
                "en": "A referral moves in order: sent → accepted → seen → feedback. This stage "
                "was recorded already or is not next.",
            },
        ) from exc
    if stage == "feedback" and not (feedback or "").strip():
        raise Unprocessable(
            "feedback text is required at the feedback stage",
            code="feedback_required",
            message={
                "zh-CN": "记录“已反馈”时请写下医院的反馈。",
                "en": "Write down the hospital's feedback to record the feedback stage.",
            },
        )
    referral.stage = stage
    referral.updated_at = now
    if feedback:
        referral.feedback = feedback
    db.add(
        case_event(
            case.id,
            f"referral.{stage}",
            at=now,
            actor_id=user.id,
            data={"referral_id": str(referral.id)},
        )
    )
    await _follow_up(db, rt, case, referral, now)
    return care_views.referral(referral)


async def _follow_up(
    db: AsyncSession, rt: Runtime, case: Case, referral: Referral, now: datetime
) -> None:
    """Close the task of the stage just reached; open one for the next stage, if any."""
    for task in (
        await db.scalars(
            select(CaseTask).where(
                CaseTask.case_id == case.id,
                CaseTask.status == "open",
                CaseTask.kind == f"referral_{referral.stage}",
            )
        )
    ).all():
        if task.data.get("referral_id") == str(referral.id):
            task.status, task.completed_at, task.next_escalation_at = "done", now, None
    school = await db.get_one(School, case.school_id)
    calendar, _ = await school_calendar(db, school, now)
    follow = triage.referral_follow_up(
        referral.stage,  # type: ignore[arg-type]
        reached_at=now,
        calendar=calendar,
        policy=rt.policy_for(school.code),
    )
    if follow is None:
        return
    add_task(
        db,
        case,
        kind=follow.kind,
        due_at=follow.due_at,
        calendar=calendar,
        policy=rt.policy_for(school.code),
        data={"referral_id": str(referral.id)},
    )
