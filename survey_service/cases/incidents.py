"""Extreme-incident reviews (checklist item 5): 14 days, at least 3,000 characters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import scope_filter, student_in_scope
from survey_service.cases import views as care_views
from survey_service.cases.schemas import IncidentOut
from survey_service.db import AsyncSession, Incident, StaffUser
from survey_service.errors import Conflict, NotFound, Unprocessable


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
        raise Unprocessable("only school staff record incidents", code="no_school")
    if not description.strip() or not kind.strip():
        raise Unprocessable("kind and description are required", code="invalid_incident")
    if occurred_at > now:
        raise Unprocessable("occurred_at is in the future", code="future_incident")
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
        raise Conflict("The review report was already filed", code="already_filed")
    try:
        triage.check_review_report(report)
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
