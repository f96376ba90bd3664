"""Wire formats of care work: cases, their tasks and history, care actions, records, care
groups, plans, referrals, incidents, the student reference.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from survey_service.schemas import (
    AwareDatetime,
    Kind,
    LongText,
    Name,
    Request,
    Text,
    single_line,
)


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
    # null in the aggregate view (district officer): no name, number or class (issue 19)
    student: StudentRef | None
    reasons: list[ReasonOut]
    # In the queue (``list_cases``) only; null elsewhere. ``deadline`` is what the queue sorts
    # by: ``acknowledge_by`` while the case is open (or has no open task), else the due time of
    # its next open task, whose kind is ``next_task`` (``acknowledge`` while open).
    school_name: str | None = None
    next_task: str | None = None
    deadline: datetime | None = None
    # The field view this row was made for (``accounts.views.View``) and, under a district
    # officer's break-glass read, when that read ends.
    view: str = "full"
    break_glass_until: datetime | None = None


class CaseList(msgspec.Struct, frozen=True):
    items: list[CaseOut]
    count: int
    sort: str


class AcknowledgeRequest(Request, frozen=True):
    note: Text | None = None


class CaseTaskOut(msgspec.Struct, frozen=True):
    task_id: uuid.UUID
    kind: str
    due_at: datetime
    status: str
    overdue: bool
    assignee_role: str | None = None
    completed_at: datetime | None = None


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
    # Who the case's notifications went to, and the school's care staff to call (issue 19).
    notified: list[NotifiedOut] = msgspec.field(default_factory=list)
    contacts: list[ContactOut] = msgspec.field(default_factory=list)


class NotifiedOut(msgspec.Struct, frozen=True):
    """One notification about a case: to whom (role, and the person where it was personal),
    on which channel, when, and whether it was delivered. Never its content."""

    event: str
    recipient_role: str
    channel: str
    recipient: str | None
    status: str
    created_at: datetime
    escalation_level: int


class ContactOut(msgspec.Struct, frozen=True):
    """A member of the school's care staff to call about a case."""

    role: str
    name: str
    phone: str | None


class ClassRef(msgspec.Struct, frozen=True):
    """A class of a school, for filters and pickers."""

    class_id: uuid.UUID
    grade: int
    name: str


class CaseActionRequest(Request, frozen=True):
    action: Kind
    note: Text | None = None


class TierDecisionRequest(Request, frozen=True):
    tier: Annotated[str, single_line(16)]
    reason: Text


class RecordRequest(Request, frozen=True):
    kind: Annotated[str, single_line(32)]
    summary: Text
    at: AwareDatetime | None = None


class TaskCompleteRequest(Request, frozen=True):
    note: Text | None = None


class MemberRequest(Request, frozen=True):
    role: Annotated[str, single_line(32)]
    staff_id: uuid.UUID | None = None
    guardian_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None


class ObservationRequest(Request, frozen=True):
    student_id: uuid.UUID
    kind: Kind
    severity: Annotated[str, single_line(32)]
    note: Text | None = None
    observed_at: AwareDatetime | None = None


class PlanContactIn(Request, frozen=True):
    """A person to contact in a crisis, as a plan names them."""

    name: Name
    relation: Annotated[str, single_line(100)]
    phone: Annotated[str, single_line(32)]


class PlanContent(Request, frozen=True):
    """What a crisis plan says; ``triage.validate_plan`` checks it is complete (422 if not)."""

    warning_signs: list[Text] = msgspec.field(default_factory=list)
    coping_steps: list[Text] = msgspec.field(default_factory=list)
    contacts: list[PlanContactIn] = msgspec.field(default_factory=list)
    means_safety: list[Text] = msgspec.field(default_factory=list)


class PlanRequest(Request, frozen=True):
    content: PlanContent
    review_on: date


class ReferralRequest(Request, frozen=True):
    hospital: Name
    note: Text | None = None


class ReferralStageRequest(Request, frozen=True):
    stage: Annotated[str, single_line(16)]
    feedback: Text | None = None


class IncidentRequest(Request, frozen=True):
    kind: Kind
    description: LongText
    occurred_at: AwareDatetime
    student_id: uuid.UUID | None = None


class IncidentReportRequest(Request, frozen=True):
    report: LongText


class TransferRequest(Request, frozen=True):
    school_code: Annotated[str, single_line(32)]
    class_id: uuid.UUID


class TransferByNumberRequest(Request, frozen=True):
    """A transfer named by the student's number at their current school (the district does
    not see student ids in its de-identified views); the reply echoes no identity."""

    from_school_code: Annotated[str, single_line(32)]
    student_number: Annotated[str, single_line(64)]
    school_code: Annotated[str, single_line(32)]
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


class BreakGlassRequest(Request, frozen=True):
    """Why a district officer must see this case's student (at least 15 characters)."""

    reason: Text


class BreakGlassOut(msgspec.Struct, frozen=True):
    """A break-glass grant: the officer's reads of the case and the student's file carry
    identities from ``opened_at`` until ``expires_at``."""

    grant_id: uuid.UUID
    case_id: uuid.UUID
    student_id: uuid.UUID
    opened_at: datetime
    expires_at: datetime
    notified: int


class SchoolCaseCounts(msgspec.Struct, frozen=True):
    """One school's open work, as counts (the district's view; no student is named)."""

    school_id: uuid.UUID
    school_code: str
    school_name: str
    open_cases: int
    open_by_tier: dict[str, int]
    open_by_status: dict[str, int]
    overdue_acknowledgements: int
    incidents_awaiting_review: int


class DistrictCaseSummary(msgspec.Struct, frozen=True):
    schools: list[SchoolCaseCounts]
    at: datetime
