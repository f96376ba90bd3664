"""What the care services hand out: their rows as wire Structs (ORM rows never leave the
service layer). One mapper per row type; each care service returns through one of these."""

from __future__ import annotations

from datetime import datetime

from survey_service.cases.schemas import (
    CaseStateOut,
    IncidentOut,
    MemberOut,
    PlanOut,
    RecordOut,
    ReferralOut,
    TaskOut,
)
from survey_service.db import (
    CareGroupMember,
    CareRecord,
    Case,
    CaseTask,
    CrisisPlan,
    Incident,
    Referral,
)


def case_state(case: Case) -> CaseStateOut:
    return CaseStateOut(
        case_id=case.id, status=case.status, tier=case.tier, closed_at=case.closed_at
    )


def record(r: CareRecord) -> RecordOut:
    return RecordOut(record_id=r.id, kind=r.kind, at=r.at)


def task(t: CaseTask) -> TaskOut:
    return TaskOut(
        task_id=t.id,
        case_id=t.case_id,
        kind=t.kind,
        due_at=t.due_at,
        status=t.status,
        assignee_role=t.assignee_role,
    )


def member(m: CareGroupMember) -> MemberOut:
    return MemberOut(
        member_id=m.id,
        role=m.role,
        staff_id=m.staff_id,
        guardian_id=m.guardian_id,
        student_id=m.student_id,
    )


def plan(p: CrisisPlan) -> PlanOut:
    return PlanOut(
        student_id=p.student_id,
        version=p.version,
        content=p.content,
        review_on=p.review_on,
        created_at=p.created_at,
    )


def referral(r: Referral) -> ReferralOut:
    return ReferralOut(
        referral_id=r.id,
        case_id=r.case_id,
        hospital=r.hospital,
        stage=r.stage,
        sent_at=r.sent_at,
        updated_at=r.updated_at,
    )


def incident(i: Incident, *, now: datetime) -> IncidentOut:
    """``overdue``: no report filed and the review deadline has passed at ``now``."""
    return IncidentOut(
        incident_id=i.id,
        school_id=i.school_id,
        kind=i.kind,
        occurred_at=i.occurred_at,
        review_due_at=i.review_due_at,
        filed_at=i.filed_at,
        overdue=i.filed_at is None and now > i.review_due_at,
        report_characters=len(i.report.strip()) if i.report else None,
    )
