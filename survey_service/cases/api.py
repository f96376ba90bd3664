"""Care-work endpoints: case actions, tier decisions, tasks, records, care group, plan,
observations, referrals, incidents, the student's file and transfers. Thin: parse, call one
service function, return a Struct."""

from __future__ import annotations

import uuid

import msgspec
from litestar import delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from survey_service.cases import care_group, incidents, observations, plans, referrals, student_file
from survey_service.cases import workflow as case_workflow
from survey_service.cases.schemas import (
    CaseActionRequest,
    CaseStateOut,
    IncidentOut,
    IncidentReportRequest,
    IncidentRequest,
    MemberOut,
    MemberRequest,
    ObservationRequest,
    PlanOut,
    PlanRequest,
    RecordOut,
    RecordRequest,
    ReferralOut,
    ReferralRequest,
    ReferralStageRequest,
    StudentOut,
    TaskCompleteRequest,
    TaskOut,
    TierDecisionRequest,
    TransferRequest,
)
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Staff = NamedDependency[StaffUser]
Now = NamedDependency[Clock]


@post(
    "/api/v1/cases/{case_id:uuid}/actions",
    tags=["care"],
    status_code=200,
    summary="Move a case through its states (acknowledge, start_assessment, …, close)",
    opt={"permission": "cases.act"},
)
async def case_action(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[CaseActionRequest],
    db: Db,
    staff: Staff,
    clock: Now,
) -> CaseStateOut:
    return await case_workflow.apply_action(
        db, staff, case_id, action=data.action, note=data.note, now=clock.now()
    )


@post(
    "/api/v1/cases/{case_id:uuid}/tier",
    tags=["care"],
    status_code=200,
    summary="Record a tier decision (lowering needs a counsellor and a reason)",
    opt={"permission": "cases.tier"},
)
async def case_tier(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[TierDecisionRequest],
    db: Db,
    staff: Staff,
    clock: Now,
) -> CaseStateOut:
    return await case_workflow.change_tier(
        db, staff, case_id, tier=data.tier, reason=data.reason, now=clock.now()
    )


@post(
    "/api/v1/cases/{case_id:uuid}/records",
    tags=["care"],
    summary="File a talk, home visit, guardian contact, assessment or note",
    opt={"permission": "records.add"},
)
async def case_record(
    case_id: FromPath[uuid.UUID], data: JSONBody[RecordRequest], db: Db, staff: Staff, clock: Now
) -> RecordOut:
    return await case_workflow.add_record(
        db, staff, case_id, kind=data.kind, summary=data.summary, at=data.at, now=clock.now()
    )


@post(
    "/api/v1/tasks/{task_id:uuid}/complete",
    tags=["care"],
    status_code=200,
    summary="Complete a task",
    opt={"permission": "tasks.complete"},
)
async def task_complete(
    task_id: FromPath[uuid.UUID],
    data: JSONBody[TaskCompleteRequest],
    db: Db,
    staff: Staff,
    clock: Now,
) -> TaskOut:
    return await case_workflow.complete_task(db, staff, task_id, note=data.note, now=clock.now())


@get(
    "/api/v1/cases/{case_id:uuid}/care-group",
    tags=["care"],
    summary="The care group",
    opt={"permission": "care_group.read"},
)
async def group_list(case_id: FromPath[uuid.UUID], db: Db, staff: Staff) -> list[MemberOut]:
    return await care_group.list_members(db, staff, case_id)


@post(
    "/api/v1/cases/{case_id:uuid}/care-group",
    tags=["care"],
    summary="Add a member",
    opt={"permission": "care_group.edit"},
)
async def group_add(
    case_id: FromPath[uuid.UUID], data: JSONBody[MemberRequest], db: Db, staff: Staff, clock: Now
) -> MemberOut:
    return await care_group.add_member(
        db,
        staff,
        case_id,
        role=data.role,
        staff_id=data.staff_id,
        guardian_id=data.guardian_id,
        student_id=data.student_id,
        now=clock.now(),
    )


@delete(
    "/api/v1/cases/{case_id:uuid}/care-group/{member_id:uuid}",
    tags=["care"],
    status_code=204,
    summary="Remove a member",
    opt={"permission": "care_group.edit"},
)
async def group_remove(
    case_id: FromPath[uuid.UUID], member_id: FromPath[uuid.UUID], db: Db, staff: Staff, clock: Now
) -> None:
    await care_group.remove_member(db, staff, case_id, member_id, now=clock.now())


@post(
    "/api/v1/observations",
    tags=["care"],
    summary="Report an observation of a student",
    opt={"permission": "observations.report"},
)
async def observation_report(
    data: JSONBody[ObservationRequest],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
) -> observations.ObservationOutcome:
    return await observations.report_observation(
        db,
        rt,
        staff,
        student_id=data.student_id,
        kind=data.kind,
        severity=data.severity,
        note=data.note,
        observed_at=data.observed_at,
        now=clock.now(),
    )


@put(
    "/api/v1/students/{student_id:uuid}/plan",
    tags=["care"],
    status_code=200,
    summary="Save a new version of the student's crisis plan (一生一策)",
    opt={"permission": "plans.write"},
)
async def plan_save(
    student_id: FromPath[uuid.UUID], data: JSONBody[PlanRequest], db: Db, staff: Staff, clock: Now
) -> PlanOut:
    return await plans.save_plan(
        db,
        staff,
        student_id,
        content=msgspec.to_builtins(data.content),
        review_on=data.review_on,
        now=clock.now(),
    )


@get(
    "/api/v1/students/{student_id:uuid}/plan",
    tags=["care"],
    summary="The current plan",
    opt={"permission": "plans.read"},
)
async def plan_get(student_id: FromPath[uuid.UUID], db: Db, staff: Staff, clock: Now) -> PlanOut:
    return await plans.current_plan(db, staff, student_id, now=clock.now())


@get(
    "/api/v1/students/{student_id:uuid}/file",
    tags=["care"],
    summary="The student's file (一人一档), in time order",
    opt={"permission": "files.read"},
)
async def file_get(
    student_id: FromPath[uuid.UUID], db: Db, staff: Staff, clock: Now
) -> student_file.StudentFile:
    return await student_file.student_file(db, staff, student_id, now=clock.now())


@post(
    "/api/v1/students/{student_id:uuid}/transfer",
    tags=["care"],
    status_code=200,
    summary="Transfer a student within the district; the file follows",
    opt={"permission": "students.transfer"},
)
async def student_transfer(
    student_id: FromPath[uuid.UUID],
    data: JSONBody[TransferRequest],
    db: Db,
    staff: Staff,
    clock: Now,
) -> StudentOut:
    return await student_file.transfer_student(
        db, staff, student_id, school_code=data.school_code, class_id=data.class_id, now=clock.now()
    )


@post(
    "/api/v1/cases/{case_id:uuid}/referrals",
    tags=["care"],
    summary="Refer to a partner hospital (green channel)",
    opt={"permission": "referrals.create"},
)
async def referral_create(
    case_id: FromPath[uuid.UUID],
    data: JSONBody[ReferralRequest],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
) -> ReferralOut:
    return await referrals.refer(
        db, rt, staff, case_id, hospital=data.hospital, note=data.note, now=clock.now()
    )


@post(
    "/api/v1/referrals/{referral_id:uuid}/stage",
    tags=["care"],
    status_code=200,
    summary="Advance a referral: sent → accepted → seen → feedback",
    opt={"permission": "referrals.advance"},
)
async def referral_stage(
    referral_id: FromPath[uuid.UUID],
    data: JSONBody[ReferralStageRequest],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
) -> ReferralOut:
    return await referrals.advance(
        db, rt, staff, referral_id, stage=data.stage, feedback=data.feedback, now=clock.now()
    )


@post(
    "/api/v1/incidents",
    tags=["care"],
    summary="Record an extreme incident (opens a review)",
    opt={"permission": "incidents.record"},
)
async def incident_create(
    data: JSONBody[IncidentRequest], db: Db, staff: Staff, clock: Now
) -> IncidentOut:
    return await incidents.record_incident(
        db,
        staff,
        kind=data.kind,
        description=data.description,
        occurred_at=data.occurred_at,
        student_id=data.student_id,
        now=clock.now(),
    )


@post(
    "/api/v1/incidents/{incident_id:uuid}/report",
    tags=["care"],
    status_code=200,
    summary="File the review report (at least 3,000 characters)",
    opt={"permission": "incidents.report"},
)
async def incident_report(
    incident_id: FromPath[uuid.UUID],
    data: JSONBody[IncidentReportRequest],
    db: Db,
    staff: Staff,
    clock: Now,
) -> IncidentOut:
    return await incidents.file_report(db, staff, incident_id, report=data.report, now=clock.now())


@get(
    "/api/v1/incidents",
    tags=["care"],
    summary="Incidents and their review deadlines",
    opt={"permission": "incidents.read"},
)
async def incident_list(db: Db, staff: Staff, clock: Now) -> list[IncidentOut]:
    return await incidents.list_incidents(db, staff, now=clock.now())


ROUTES = [
    case_action,
    case_tier,
    case_record,
    task_complete,
    group_list,
    group_add,
    group_remove,
    observation_report,
    plan_save,
    plan_get,
    file_get,
    student_transfer,
    referral_create,
    referral_stage,
    incident_create,
    incident_report,
    incident_list,
]
