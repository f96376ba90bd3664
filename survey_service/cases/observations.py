"""Teachers' observation reports (checklist item 19): they can open or raise a case."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.cases.service import as_tier, find_open_case, open_or_update_case
from survey_service.db import AsyncSession, Observation, School, StaffUser
from survey_service.errors import Unprocessable
from survey_service.screening.results import triage_row
from survey_service.services.runtime import Runtime

SEVERITIES = ("concern", "serious", "imminent_danger")

# Observation kinds that name self-harm or suicide: the kinds the teacher's form offers
# (``self_harm_signs``, ``talk_of_death``) and the domain's own example code. Issue 11: such an
# observation opens at least an orange case on the *suicide* pathway, whatever severity the
# teacher chose. The default policy has no rule by observation kind (its observation rules go
# by severity, and ``serious`` gives the orange *severity* pathway), so the service does it:
# the severity given to triage is raised to at least ``serious`` (the teacher's own choice is
# stored unchanged on the observation), and an orange result is put on the suicide pathway with
# the reason ``observation_self_harm``. Red (``imminent_danger``) stays red crisis.
SELF_HARM_KINDS = frozenset({"self_harm_signs", "talk_of_death", "self_harm_talk"})
SELF_HARM_RULE_ID = "observation_self_harm"
SELF_HARM_TEXT = {
    "zh-CN": "需要今天关注：教职工报告了自伤迹象或谈论死亡、不想活的情况（无论所选严重程度），"
    "按自杀风险路径处理，学生回家前需完成简短的安全评估。",
    "en": "Needs attention today: a staff member reported signs of self-harm or talk of death "
    "or not wanting to live (whatever severity was chosen). This follows the suicide pathway: "
    "a brief safety assessment is due before the student goes home.",
}


def triage_severity(kind: str, severity: str) -> str:
    """The severity triage sees: at least ``serious`` for a self-harm or suicide kind."""
    if kind in SELF_HARM_KINDS and severity == "concern":
        return "serious"
    return severity


def on_suicide_pathway(result: triage.TriageResult, kind: str) -> triage.TriageResult:
    """An orange result of a self-harm observation, put on the suicide pathway (see above)."""
    if kind not in SELF_HARM_KINDS or result.tier != "orange" or result.pathway == "suicide":
        return result
    reason = triage.Reason(
        rule_id=SELF_HARM_RULE_ID,
        tier="orange",
        pathway="suicide",
        evidence={"observation_kind": kind},
        text=dict(SELF_HARM_TEXT),
    )
    return msgspec.structs.replace(result, pathway="suicide", reasons=(reason, *result.reasons))


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
    permissions.require(user, "observations.report")
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
        observations=[
            triage.Observation(kind=kind, severity=triage_severity(kind, severity), note=None)  # type: ignore[arg-type]
        ],
        open_case_tier=as_tier(open_case.tier) if open_case is not None else None,
    )
    result = on_suicide_pathway(result, kind)
    record = triage_row(result, student_id=student.id, now=now, source="observation")
    db.add(record)
    await db.flush()
    observation.triage_id = record.id
    case_id = None
    if result.tier != "green":
        case = await open_or_update_case(
            db,
            rt,
            student=student,
            school=school,
            result=result,
            triage_row=record,
            open_case=open_case,
            now=now,
        )
        case_id = case.id
    elif open_case is not None:
        case_id = open_case.id
    return ObservationOutcome(observation_id=observation.id, case_id=case_id, tier=result.tier)
