"""Extreme-incident reviews (checklist item 5): 14 days, at least 3,000 characters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import case_in_scope, scope_filter, student_in_scope
from survey_service.cases import views as care_views
from survey_service.cases.schemas import IncidentOut
from survey_service.db import AsyncSession, Incident, StaffUser
from survey_service.errors import Conflict, NotFound, Unprocessable

#: The kinds the case page offers (the API takes any short kind). Labels: ``incident_kind``.
INCIDENT_KINDS = (
    "self_harm",
    "suicide_attempt",
    "suicide",
    "violence",
    "running_away",
    "other",
)


async def record_incident(
    db: AsyncSession,
    user: StaffUser,
    *,
    kind: str,
    description: str,
    occurred_at: datetime,
    student_id: uuid.UUID | None,
    now: datetime,
) -> IncidentOut:
    """Record an incident; the review is due 14 days later (``triage.incident_review_deadline``)."""
    permissions.require(user, "incidents.record")
    if user.school_id is None:
        raise Unprocessable(
            "only school staff record incidents",
            code="no_school",
            message={
                "zh-CN": "只有学校的教职工可以登记事件。",
                "en": "Only school staff record incidents.",
            },
        )
    if not description.strip() or not kind.strip():
        raise Unprocessable(
            "kind and description are required",
            code="invalid_incident",
            message={
                "zh-CN": "请选择事件类型并写明经过。",
                "en": "Choose the kind of incident and describe what happened.",
            },
        )
    if occurred_at > now:
        raise Unprocessable(
            "occurred_at is in the future",
            code="future_incident",
            message={
                "zh-CN": "发生时间不能晚于现在。",
                "en": "The time it happened cannot be in the future.",
            },
        )
    if student_id is not None:
        await student_in_scope(db, user, student_id)
    incident = Incident(
        school_id=user.school_id,
        student_id=student_id,
        kind=kind,
        description=description,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by=user.id,
        review_due_at=triage.incident_review_deadline(now),
        report=None,
        filed_at=None,
        filed_by=None,
        escalated_at=None,
    )
    db.add(incident)
    await db.flush()  # ids are assigned at flush; the reply carries it
    return care_views.incident(incident, now=now)


async def file_report(
    db: AsyncSession, user: StaffUser, incident_id: uuid.UUID, *, report: str, now: datetime
) -> IncidentOut:
    """File the review report; refused (422) under 3,000 characters, nothing is stored then."""
    permissions.require(user, "incidents.report")
    incident = await db.get(Incident, incident_id)
    if incident is None or incident.school_id != user.school_id:
        raise NotFound("No such incident", code="incident_not_found")
    if incident.filed_at is not None:
        raise Conflict(
            "The review report was already filed",
            code="already_filed",
            message={
                "zh-CN": "这起事件的复盘报告已经提交过了。",
                "en": "The review report of this incident was already filed.",
            },
        )
    try:
        triage.check_review_report(report)
    except triage.ReviewReportTooShort as exc:
        raise Unprocessable(
            str(exc),
            code="report_too_short",
            message={
                "zh-CN": f"复盘报告至少需要 {exc.required} 字，现在是 {exc.count} 字，"
                f"还差 {exc.required - exc.count} 字（不计首尾空白，汉字、字母、数字、"
                "标点和中间的空格各算一个字）。报告没有提交。",
                "en": f"A review report needs at least {exc.required:,} characters; this one "
                f"has {exc.count:,} ({exc.required - exc.count:,} short). It was not filed.",
            },
        ) from exc
    except ValueError as exc:
        raise Unprocessable(str(exc), code="report_too_short") from exc
    incident.report = report
    incident.filed_at = now
    incident.filed_by = user.id
    return care_views.incident(incident, now=now)


async def list_incidents(db: AsyncSession, user: StaffUser, *, now: datetime) -> list[IncidentOut]:
    """The school's incidents, or the district's for a district officer (by review deadline);
    ``overdue`` as of ``now``."""
    permissions.require(user, "incidents.read")
    query = (
        select(Incident)
        .where(scope_filter(user, school_id=Incident.school_id))
        .order_by(Incident.review_due_at)
    )
    return [care_views.incident(i, now=now) for i in (await db.scalars(query)).all()]


# --- the incidents of one student, on the case page -------------------------------------------


@dataclass(frozen=True)
class IncidentView:
    """One incident of the student for the case page: what happened, when the review is due,
    whether it is overdue at ``now`` and, once filed, when and how long the report is."""

    incident_id: uuid.UUID
    kind: str
    description: str
    occurred_at: datetime
    recorded_at: datetime
    review_due_at: datetime
    filed_at: datetime | None
    overdue: bool
    report_characters: int | None


async def student_incidents(
    db: AsyncSession, user: StaffUser, student_id: uuid.UUID, *, now: datetime
) -> list[IncidentView]:
    """The student's incidents in the caller's scope, the newest first."""
    permissions.require(user, "incidents.read")
    await student_in_scope(db, user, student_id)
    rows = await db.scalars(
        select(Incident)
        .where(
            Incident.student_id == student_id,
            scope_filter(user, school_id=Incident.school_id),
        )
        .order_by(Incident.recorded_at.desc())
    )
    return [
        IncidentView(
            incident_id=i.id,
            kind=i.kind,
            description=i.description,
            occurred_at=i.occurred_at,
            recorded_at=i.recorded_at,
            review_due_at=i.review_due_at,
            filed_at=i.filed_at,
            overdue=i.filed_at is None and now > i.review_due_at,
            report_characters=triage.count_report_characters(i.report) if i.report else None,
        )
        for i in rows.all()
    ]


async def record_for_case(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    *,
    kind: str,
    description: str,
    occurred_at: datetime,
    now: datetime,
) -> IncidentOut:
    """Record an incident of the case's student (the case page's form): one of
    :data:`INCIDENT_KINDS`, then as :func:`record_incident`."""
    permissions.require(user, "incidents.record")
    case = await case_in_scope(db, user, case_id)
    if kind not in INCIDENT_KINDS:
        raise Unprocessable(
            f"kind must be one of {', '.join(INCIDENT_KINDS)} (got {kind!r})",
            code="invalid_incident_kind",
            message={
                "zh-CN": "请选择事件类型。",
                "en": "Choose the kind of incident.",
            },
        )
    return await record_incident(
        db,
        user,
        kind=kind,
        description=description,
        occurred_at=occurred_at,
        student_id=case.student_id,
        now=now,
    )


async def file_report_for_case(
    db: AsyncSession,
    user: StaffUser,
    case_id: uuid.UUID,
    incident_id: uuid.UUID,
    *,
    report: str,
    now: datetime,
) -> IncidentOut:
    """File the review report of an incident of the case's student (the case page's form);
    an incident of another student answers 404 like a missing one."""
    permissions.require(user, "incidents.report")
    case = await case_in_scope(db, user, case_id)
    incident = await db.get(Incident, incident_id)
    if incident is None or incident.student_id != case.student_id:
        raise NotFound("No such incident", code="incident_not_found")
    return await file_report(db, user, incident_id, report=report, now=now)
