"""Break-glass: a district officer's one exception to the aggregate view (issue 19).

A district officer sees no student identities. When a case needs the district to act on the
student (a school cannot be reached, a red case sits unacknowledged), the officer states why
(at least :data:`MIN_REASON_CHARS` characters) and opens ONE case and its student's file for
``Settings.break_glass_minutes`` (default 30, at most 240). The grant is audited
(``break_glass.open``; every read under it is audited as usual) and the school's lead and
counsellors are told in their in-app queue who opened which case, never anything about the
student. When it expires, the officer's reads are de-identified again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope
from survey_service.cases.events import case_event
from survey_service.cases.schemas import BreakGlassOut
from survey_service.db import AsyncSession, BreakGlassGrant, InboxItem, School, StaffUser
from survey_service.errors import BadRequest
from survey_service.services import audit
from survey_service.settings import MAX_BREAK_GLASS_MINUTES

#: The shortest reason accepted, in characters (after trimming).
MIN_REASON_CHARS = 15
#: Who is told: the school's care staff.
NOTIFIED_ROLES = ("school_lead", "counsellor")
EVENT = "case.break_glass"

_TITLE = {
    "zh-CN": "【润心】区教育局已紧急查看学生档案",
    "en": "[Runxin] A district officer opened a student's file (break-glass)",
}
_BODY = {
    "zh-CN": "区教育局 {officer} 以紧急查看方式打开了个案 {case_id} 的学生身份与档案，"
    "有效至 {until}。原因已记入审计日志。",
    "en": "District officer {officer} opened the identity and file of the student of case "
    "{case_id} under break-glass, until {until}. The reason is in the audit log.",
}


async def open_grant(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    reason: str,
    minutes: int,
    base_url: str,
    now: datetime,
) -> BreakGlassOut:
    """Open a break-glass grant on ``case_id`` for the caller (a district officer).

    Refused with 400 ``reason_required`` for a reason under 15 characters and 404 for a case
    outside the district; nothing is written then.
    """
    permissions.require(user, "cases.break_glass")
    if not 1 <= minutes <= MAX_BREAK_GLASS_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_BREAK_GLASS_MINUTES}, got {minutes}")
    text = reason.strip()
    if len(text) < MIN_REASON_CHARS:
        raise BadRequest(
            f"reason: state why you must see this student, in at least {MIN_REASON_CHARS} "
            f"characters (got {len(text)})",
            code="reason_required",
        )
    case = await case_in_scope(db, user, case_id)
    grant = BreakGlassGrant(
        id=uuid.uuid4(),
        user_id=user.id,
        case_id=case.id,
        student_id=case.student_id,
        reason=text,
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.add(grant)
    db.add(
        case_event(
            case.id,
            "break_glass",
            at=now,
            actor_id=user.id,
            data={"grant_id": str(grant.id), "expires_at": grant.expires_at.isoformat()},
        )
    )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="break_glass.open",
        subject_type="case",
        subject_ids=[case.id],
        school_id=case.school_id,
        now=now,
    )
    notified = await _notify_school(db, user, grant, school_id=case.school_id, base_url=base_url)
    return BreakGlassOut(
        grant_id=grant.id,
        case_id=case.id,
        student_id=case.student_id,
        opened_at=grant.opened_at,
        expires_at=grant.expires_at,
        notified=notified,
    )


async def _notify_school(
    db: AsyncSession,
    officer: StaffUser,
    grant: BreakGlassGrant,
    *,
    school_id: uuid.UUID,
    base_url: str,
) -> int:
    """One in-app notification per active school lead and counsellor of the case's school:
    who opened which case, until when. No student data (no name, number, class, reason)."""
    school = await db.get_one(School, school_id)
    staff = (
        await db.scalars(
            select(StaffUser)
            .where(
                StaffUser.school_id == school_id,
                StaffUser.active.is_(True),
                StaffUser.role.in_(NOTIFIED_ROLES),
            )
            .order_by(StaffUser.id)
        )
    ).all()
    until = grant.expires_at.isoformat().replace("+00:00", "Z")
    fields = {"officer": officer.display_name, "case_id": str(grant.case_id), "until": until}
    for person in staff:
        db.add(
            InboxItem(
                user_id=person.id,
                delivery_id="break-glass-" + uuid.uuid5(grant.id, str(person.id)).hex,
                event=EVENT,
                content={
                    "event": EVENT,
                    "case_id": str(grant.case_id),
                    "school": school.name,
                    "officer_id": str(officer.id),
                    "officer": officer.display_name,
                    "opened_at": grant.opened_at.isoformat().replace("+00:00", "Z"),
                    "expires_at": until,
                    "title": _TITLE["zh-CN"],
                    "body": _BODY["zh-CN"].format(**fields),
                    "title_en": _TITLE["en"],
                    "body_en": _BODY["en"].format(**fields),
                    "link": f"{base_url.rstrip('/')}/staff/cases/{grant.case_id}",
                },
                created_at=grant.opened_at,
                read_at=None,
            )
        )
    return len(staff)
