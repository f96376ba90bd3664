"""Wire formats of care work: cases, their tasks and history, care actions, records, care
groups, plans, referrals, incidents, the student reference.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from survey_service.schemas import AwareDatetime, Request


class StudentRef(msgspec.Struct, frozen=True):
    student_id: uuid.UUID
    name: str
    grade: int
    class_name: str
    class_id: uuid.UUID | None = None


class ReasonOut(msgspec.Struct, frozen=True):
    rule_id: str
    text: dict[str, str]


class CaseOut(msgspec.Struct, frozen=True):
    """A case in a queue: urgency and deadlines, the reasons, never the answers."""

    case_id: uuid.UUID
    tier: str
    pathway: str | None
    status: str
    opened_at: datetime
    acknowledge_by: datetime
    acknowledged_at: datetime | None
    overdue: bool
    escalation_level: int
    school_id: uuid.UUID
    student: StudentRef
    reasons: list[ReasonOut]
    # In the queue (``list_cases``) only; null elsewhere. ``deadline`` is what the queue sorts
    # by: ``acknowledge_by`` while the case is open (or has no open task), else the due time of
    # its next open task, whose kind is ``next_task`` (``acknowledge`` while open).
    school_name: str | None = None
    next_task: str | None = None
    deadline: datetime | None = None


class CaseList(msgspec.Struct, frozen=True):
    items: list[CaseOut]
    count: int
    sort: str


class AcknowledgeRequest(Request, frozen=True):
    note: str | None = None


class CaseTaskOut(msgspec.Struct, frozen=True):
    task_id: uuid.UUID
    kind: str
    due_at: datetime
    status: str
    overdue: bool
    assignee_role: str | None = None


class CaseEventOut(msgspec.Struct, frozen=True):
    kind: str
    at: datetime
    actor_id: uuid.UUID | None
    note: str | None


class CaseDetail(msgspec.Struct, frozen=True):
    """One case with its deadlines (tasks) and its history; never the answers."""

    case: CaseOut
    tasks: list[CaseTaskOut]
    events: list[CaseEventOut]


class ClassRef(msgspec.Struct, frozen=True):
    """A class of a school, for filters and pickers."""

    class_id: uuid.UUID
    grade: int
    name: str


class CaseActionRequest(Request, frozen=True):
    action: str
    note: str | None = None


class TierDecisionRequest(Request, frozen=True):
    tier: str
    reason: str


class RecordRequest(Request, frozen=True):
    kind: str
    summary: str
    at: AwareDatetime | None = None


class TaskCompleteRequest(Request, frozen=True):
    note: str | None = None


class MemberRequest(Request, frozen=True):
    role: str
    staff_id: uuid.UUID | None = None
    guardian_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None


class ObservationRequest(Request, frozen=True):
    student_id: uuid.UUID
    kind: str
    severity: str
    note: str | None = None
    observed_at: AwareDatetime | None = None


class PlanRequest(Request, frozen=True):
    content: dict[str, Any]
    review_on: date


class ReferralRequest(Request, frozen=True):
    hospital: str
    note: str | None = None


class ReferralStageRequest(Request, frozen=True):
    stage: str
    feedback: str | None = None


class IncidentRequest(Request, frozen=True):
    kind: str
    description: str
    occurred_at: AwareDatetime
    student_id: uuid.UUID | None = None


class IncidentReportRequest(Request, frozen=True):
    report: str


class TransferRequest(Request, frozen=True):
    school_code: str
    class_id: uuid.UUID


class TaskOut(msgspec.Struct, frozen=True):
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    due_at: datetime
    status: str
    assignee_role: str | None


class RecordOut(msgspec.Struct, frozen=True):
    record_id: uuid.UUID
    kind: str
    at: datetime


class MemberOut(msgspec.Struct, frozen=True):
    member_id: uuid.UUID
    role: str
    staff_id: uuid.UUID | None
    guardian_id: uuid.UUID | None
    student_id: uuid.UUID | None


class PlanOut(msgspec.Struct, frozen=True):
    student_id: uuid.UUID
    version: int
    content: dict[str, Any]
    review_on: date
    created_at: datetime


class ReferralOut(msgspec.Struct, frozen=True):
    referral_id: uuid.UUID
    case_id: uuid.UUID
    hospital: str
    stage: str
    sent_at: datetime
    updated_at: datetime


class IncidentOut(msgspec.Struct, frozen=True):
    incident_id: uuid.UUID
    school_id: uuid.UUID
    kind: str
    occurred_at: datetime
    review_due_at: datetime
    filed_at: datetime | None
    overdue: bool
    report_characters: int | None


class StudentOut(msgspec.Struct, frozen=True):
    student_id: uuid.UUID
    school_id: uuid.UUID
    class_id: uuid.UUID


class CaseStateOut(msgspec.Struct, frozen=True):
    case_id: uuid.UUID
    status: str
    tier: str
    closed_at: datetime | None
