"""Wire formats of the care-work API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from survey_service.schemas._core import Request


class CaseActionRequest(Request, frozen=True):
    action: str
    note: str | None = None


class TierDecisionRequest(Request, frozen=True):
    tier: str
    reason: str


class RecordRequest(Request, frozen=True):
    kind: str
    summary: str
    at: datetime | None = None


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
    observed_at: datetime | None = None


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
    occurred_at: datetime
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
