"""The district's view of open care work: counts per school, never a student (issue 19).

A district officer needs to see that school X has a red case unacknowledged for three hours
and whom to call, not who the student is: open cases by tier and by state, overdue
acknowledgements and incident reviews not yet filed, per school. The de-identified case rows
behind these counts come from the case queue (``service.list_cases``) through the aggregate
field view.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import schools_in_scope
from survey_service.cases.schemas import DistrictCaseSummary, SchoolCaseCounts
from survey_service.db import AsyncSession, Case, Incident, StaffUser

OPEN_STATES = triage.OPEN_CASE_STATES
TIERS = ("red", "orange", "yellow")


async def case_summary(db: AsyncSession, user: StaffUser, *, now: datetime) -> DistrictCaseSummary:
    """Open work of every school of the caller's district, as counts (by school code).

    No student is named or counted alone in a way that names them: the rows are schools.
    Not audited as a read of individual records (it reads none).
    """
    permissions.require(user, "cases.district_summary")
    schools = await schools_in_scope(db, user)
    ids = [s.id for s in schools]
    by_tier: Counter[tuple[uuid.UUID, str]] = Counter()
    by_status: Counter[tuple[uuid.UUID, str]] = Counter()
    overdue: Counter[uuid.UUID] = Counter()
    if ids:
        rows = (
            await db.execute(
                select(Case.school_id, Case.tier, Case.status, func.count())
                .where(Case.school_id.in_(ids), Case.status.in_(OPEN_STATES))
                .group_by(Case.school_id, Case.tier, Case.status)
            )
        ).all()
        for school_id, tier, status, n in rows:
            by_tier[school_id, tier] += n
            by_status[school_id, status] += n
        overdue.update(
            dict(
                (
                    await db.execute(
                        select(Case.school_id, func.count())
                        .where(
                            Case.school_id.in_(ids),
                            Case.status.in_(OPEN_STATES),
                            Case.acknowledged_at.is_(None),
                            Case.acknowledge_by < now,
                        )
                        .group_by(Case.school_id)
                    )
                ).all()
            )
        )
        reviews = Counter(
            dict(
                (
                    await db.execute(
                        select(Incident.school_id, func.count())
                        .where(Incident.school_id.in_(ids), Incident.filed_at.is_(None))
                        .group_by(Incident.school_id)
                    )
                ).all()
            )
        )
    else:
        reviews = Counter()
    out = []
    for school in schools:
        tiers = {t: by_tier[school.id, t] for t in TIERS}
        out.append(
            SchoolCaseCounts(
                school_id=school.id,
                school_code=school.code,
                school_name=school.name,
                open_cases=sum(tiers.values()),
                open_by_tier=tiers,
                open_by_status={
                    s: by_status[school.id, s] for s in triage.CASE_STATES if s in OPEN_STATES
                },
                overdue_acknowledgements=overdue[school.id],
                incidents_awaiting_review=reviews[school.id],
            )
        )
    return DistrictCaseSummary(schools=out, at=now)
