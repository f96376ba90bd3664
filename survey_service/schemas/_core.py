"""Wire formats of the JSON API (msgspec Structs; never ORM rows)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Language = Literal["zh-CN", "en"]


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of every request body: unknown fields are an error, not ignored."""


class StartSessionRequest(Request, frozen=True):
    access_code: str
    language: Language = "zh-CN"


class OptionOut(msgspec.Struct, frozen=True):
    value: int
    text: str


class ItemOut(msgspec.Struct, frozen=True):
    item_id: str
    text: str
    options: list[OptionOut]


class InstrumentOut(msgspec.Struct, frozen=True):
    instrument_id: str
    version: str
    title: str
    instructions: str
    language: str
    language_status: str
    items: list[ItemOut]
    language_notice: dict[str, str] | None = None


class HelpContact(msgspec.Struct, frozen=True):
    name: dict[str, str]
    contact: str


class StartSessionResponse(msgspec.Struct, frozen=True):
    session_id: uuid.UUID
    session_token: str
    language: str
    resumed: bool
    expires_at: datetime
    battery: list[InstrumentOut]
    help_contacts: list[HelpContact]
    saved_answers: dict[str, dict[str, Any]] = {}
    # The save counter now: send it back as ``revision.view`` with later saves.
    answers_version: int = 0
    # Who answers: "self" (the student) or "parent" (the guardian, about the student).
    respondent: str = "self"


class SubmissionRequest(Request, frozen=True):
    """Answers per instrument id, per item id: an option value, or ``null`` when unanswered.

    Values are checked by the scorer against each item's options (an integer among them, or
    null), so that an error can name the instrument and the item; nothing is coerced.
    """

    answers: dict[str, dict[str, Any]]


class SubmissionReceipt(msgspec.Struct, frozen=True):
    """What a student is told: that it arrived. Never a score, band or tier."""

    session_id: uuid.UUID
    status: Literal["received"]
    received_at: datetime
    message: dict[str, str]
    help_contacts: list[HelpContact]


class LoginRequest(Request, frozen=True):
    username: str
    password: str


class LoginResponse(msgspec.Struct, frozen=True):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    role: str
    display_name: str


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


class SaveRevision(Request, frozen=True):
    """Orders saves that may race: ``view`` is the ``answers_version`` the client last got,
    ``seq`` grows with every change the client makes (e.g. milliseconds of its clock)."""

    view: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class PartialAnswers(Request, frozen=True):
    """Answers to save. ``null`` records an item as left out; it never erases a given answer.
    Without ``revision`` the save is the latest: it replaces every answer saved before it."""

    answers: dict[str, dict[str, Any]]
    revision: SaveRevision | None = None


class SavedAnswers(msgspec.Struct, frozen=True):
    session_id: uuid.UUID
    answers: dict[str, dict[str, Any]]
    answers_version: int = 0


class ClassRef(msgspec.Struct, frozen=True):
    """A class of a school, for filters and pickers."""

    class_id: uuid.UUID
    grade: int
    name: str


class CalendarOut(msgspec.Struct, frozen=True):
    """A school year's stored calendar."""

    school_code: str
    label: str
    first_day: str
    last_day: str
    updated_at: datetime


class ConsentRecorded(msgspec.Struct, frozen=True):
    """A guardian's recorded consent or refusal."""

    consent_id: uuid.UUID
    status: str
