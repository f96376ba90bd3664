"""Teachers' observation reports (checklist item 19): they can open or raise a case."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

import triage

from ..db import AsyncSession, Observation, School, StaffUser, TriageRecord
from ..errors import Unprocessable
from .access import OBSERVERS, require_role, student_in_scope
from .cases import as_tier, find_open_case, open_or_update_case
from .runtime import Runtime

SEVERITIES = ("concern", "serious", "imminent_danger")


class ObservationOutcome(msgspec.Struct, frozen=True):
    observation_id: uuid.UUID
    case_id: uuid.UUID | None
    tier: str


async def report_observation(
    db: AsyncSession,
    rt: Runtime,
    user: StaffUser,
    *,
    student_id: uuid.UUID,
    kind: str,
    severity: str,
    note: str | None,
    observed_at: datetime | None,
    now: datetime,
) -> ObservationOutcome:
    """Record an observation and triage it; a case opens or its tier rises as the policy says.

    The reporter learns whether a case is open (so they know someone acts), never scores.
    """
    require_role(user, OBSERVERS, "report observations")
    if severity not in SEVERITIES:
        raise Unprocessable(
            f"severity must be one of {', '.join(SEVERITIES)} (got {severity!r})",
            code="invalid_severity",
        )
    if not kind.strip() or len(kind) > 48:
        raise Unprocessable("kind must be 1 to 48 characters", code="invalid_kind")
    if observed_at is not None and observed_at > now:
        raise Unprocessable("observed_at is in the future", code="future_observation")
    student = await student_in_scope(db, user, student_id)
    school = await db.get_one(School, student.school_id)
    observation = Observation(
        student_id=student.id,
        school_id=student.school_id,
        reporter_id=user.id,
        kind=kind,
        severity=severity,
        note=note,
        observed_at=observed_at or now,
        recorded_at=now,
        triage_id=None,
    )
    db.add(observation)
    open_case = await find_open_case(db, student.id)
    result = triage.evaluate(
        [],
        policy=rt.policy_for(school.code),
        observations=[triage.Observation(kind=kind, severity=severity, note=None)],  # type: ignore[arg-type]
        open_case_tier=as_tier(open_case.tier) if open_case is not None else None,
    )
    triage_row = TriageRecord(
        id=uuid.uuid4(),
        session_id=None,
        source="observation",
        student_id=student.id,
        tier=result.tier,
        pathway=result.pathway,
        reasons=[msgspec.to_builtins(r) for r in result.reasons],
        policy_version=result.policy_version,
        evaluated_at=now,
    )
    db.add(triage_row)
    await db.flush()
    observation.triage_id = triage_row.id
    case_id = None
    if result.tier != "green":
        case = await open_or_update_case(
            db,
            rt,
            student=student,
            school=school,
            result=result,
            triage_row=triage_row,
            open_case=open_case,
            now=now,
        )
        case_id = case.id
    elif open_case is not None:
        case_id = open_case.id
    return ObservationOutcome(observation_id=observation.id, case_id=case_id, tier=result.tier)
