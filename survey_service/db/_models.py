"""ORM tables. Rows never leave the service layer: the API speaks msgspec Structs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from survey_service.db._types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class District(Base):
    __tablename__ = "districts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))


class School(Base):
    __tablename__ = "schools"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    district_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("districts.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    counselling_room: Mapped[str | None] = mapped_column(String(300))
    city_help_line: Mapped[str | None] = mapped_column(String(100))
    # Who is called outside school hours for a suicide-pathway case (issue 11); [] = the default
    # rota (the school lead and the counsellors, by SMS or phone channel).
    on_call_rota: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")


class SchoolClass(Base):
    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_id", "grade", "name"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    head_teacher_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_users.id", use_alter=True), index=True
    )


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("school_id", "student_number"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id"), index=True)
    student_number: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    psychology_committee: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200))
    district_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("districts.id"), index=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    # For counsellors: a part-time mental-health teacher (兼职心理教师, checklist item 10).
    part_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Issue 13: a one-time password (a new account, an administrator's reset) must be changed
    # at the next sign-in; only the staff member's own password change clears it.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class StaffToken(Base):
    __tablename__ = "staff_tokens"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # The absolute end of the session (issue 19: ``staff_token_ttl_s`` after sign-in).
    expires_at: Mapped[datetime]
    # Last request seen with this token, written at most once a minute (idle timeout).
    last_used_at: Mapped[datetime]


class LoginAttempt(Base):
    """One sign-in attempt (issue 19): the throttling counts failures per account name and per
    client address over a window; a success ends an account's run of failures."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    # As typed, cut to 100 characters (the longest username), so unknown names count too.
    username: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    school_year: Mapped[str] = mapped_column(String(16))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    battery: Mapped[list[Any]]
    languages: Mapped[list[Any]]
    # [{"grades": [4, 5, 6], "instruments": ["phq2", ...]}, ...]; ``battery`` for other grades.
    grade_batteries: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    target_class_ids: Mapped[list[Any] | None] = mapped_column(JSON)  # None: every class
    # "guardian_under_14" | "guardian_all" | "statutory_basis"
    consent_rule: Mapped[str] = mapped_column(
        String(32), default="guardian_under_14", server_default="guardian_under_14"
    )
    statutory_basis: Mapped[str | None] = mapped_column(Text)
    results_visible_to_students: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )
    # Deliver an instrument in English where it has no text in the campaign's language.
    allow_language_fallback: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )
    # Parent-report instrument ids answered by each targeted student's guardian through a
    # guardian access code (issue 11); the results are the student's.
    guardian_battery: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # The version of the consent notice text guardians are shown (issue 19, data rights).
    consent_notice_version: Mapped[str] = mapped_column(
        String(32), default="2026.1", server_default="2026.1"
    )


class AccessCode(Base):
    __tablename__ = "access_codes"
    __table_args__ = (UniqueConstraint("campaign_id", "student_id", "respondent"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    # Who answers with this code: "self" (the student) or "parent" (the student's guardian).
    respondent: Mapped[str] = mapped_column(String(16), default="self", server_default="self")
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ScreeningSession(Base):
    __tablename__ = "screening_sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    access_code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("access_codes.id"), unique=True)
    # "self" or "parent": the access code's respondent; the session is always the student's.
    respondent: Mapped[str] = mapped_column(String(16), default="self", server_default="self")
    token_digest: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # started | submitted
    battery: Mapped[list[Any]]  # [{"instrument_id", "version"}] as delivered
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    # Answers saved as the student goes (resume on another device within the window).
    partial_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Per item, the stamp ``[view, seq]`` of the save that set it, and the count of saves that
    # changed anything: the monotonic merge rule of ``screening.saved_answers``.
    answer_stamps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    answers_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When an answer was last saved (the sweeper triages abandoned critical answers from it).
    answers_saved_at: Mapped[datetime | None]
    # When the sweeper triaged the saved (not submitted) answers: at most once (issue 11).
    saved_triaged_at: Mapped[datetime | None]
    # Response-quality flags for the counsellor (speeding, straight-lining); triage still runs.
    quality_flags: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("session_id", "key"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screening_sessions.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("session_id", "instrument_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screening_sessions.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]]
    submitted_at: Mapped[datetime]
    # The language the form was given in and that text's validation status (issue 11).
    language: Mapped[str | None] = mapped_column(String(16))
    language_status: Mapped[str | None] = mapped_column(String(16))
    # Who answered: "self" (the student) or "parent" (the guardian, about the student).
    respondent: Mapped[str] = mapped_column(String(16), default="self", server_default="self")


class Score(Base):
    __tablename__ = "scores"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("responses.id"), index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screening_sessions.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(32))
    prorated: Mapped[bool] = mapped_column(Boolean)
    positive: Mapped[bool | None] = mapped_column(Boolean)
    subscales: Mapped[list[Any]]
    flags: Mapped[list[Any]]
    scored_at: Mapped[datetime]


class TriageRecord(Base):
    __tablename__ = "triage_results"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    # A screening session, or None when an observation report produced the result.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("screening_sessions.id"), unique=True
    )
    source: Mapped[str] = mapped_column(String(16), default="screening", server_default="screening")
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    pathway: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[Any]]
    policy_version: Mapped[str] = mapped_column(String(32))
    evaluated_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_escalation_due", "status", "next_escalation_at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    triage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("triage_results.id"))
    tier: Mapped[str] = mapped_column(String(16))
    pathway: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    acknowledge_by: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    ladder: Mapped[list[Any]]  # [{"level", "role", "due_at"}]
    next_escalation_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)


class CaseTask(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_escalation_due", "status", "next_escalation_at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    completed_at: Mapped[datetime | None]
    assignee_role: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    completed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ladder: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    next_escalation_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class CaseEvent(Base):
    __tablename__ = "case_events"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        UniqueConstraint("dedup_key"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    event: Mapped[str] = mapped_column(String(48))
    # The channel's name in the school's notification routes ("webhook" when none are set).
    channel: Mapped[str] = mapped_column(String(32))
    recipient_role: Mapped[str] = mapped_column(String(32))
    recipient_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    tier: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    outbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox.id"), index=True)
    worker: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only: one row for every read or change of an individual student's record."""

    __tablename__ = "audit_log"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_ids: Mapped[list[Any]]
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Issue 19: what else the row says (route, status, export format, masked channel kinds);
    # never a secret, a name or an answer.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The hash chain, set once by ``services.audit.seal`` (database triggers refuse any other
    # UPDATE and every DELETE): position in the chain, the previous row's hash, this row's.
    seq: Mapped[int | None] = mapped_column(BigInteger, index=True, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The one row that says where the audit chain ends (issue 19).

    Sealers lock it (``UPDATE`` first), so one seals at a time; a trigger refuses a DELETE and
    a lower ``last_seq``, so rows cut off the end of the chain are detected too.
    """

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime | None]


class InstrumentDefinition(Base):
    """An instrument definition installed by a school or district (``runxin instruments add``).

    Kept in the database so every app and worker process on every machine sees the same
    catalogue. The newest installed version of an id is the current one; older versions stay,
    so results keep the version they were scored with.
    """

    __tablename__ = "instrument_definitions"
    __table_args__ = (UniqueConstraint("instrument_id", "version"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    instrument_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    installed_at: Mapped[datetime]


class Guardian(Base):
    __tablename__ = "guardians"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))


class CareGroupMember(Base):
    """A member of a case's care group (checklist item 13); the role decides what they see."""

    __tablename__ = "care_group_members"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    guardian_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("guardians.id"))
    student_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("students.id"))
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class CrisisPlan(Base):
    """One version of a student's crisis-intervention plan (一生一策); versions are kept."""

    __tablename__ = "crisis_plans"
    __table_args__ = (UniqueConstraint("student_id", "version"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    review_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]


class Observation(Base):
    """A teacher's or psychology committee member's observation report (checklist item 19)."""

    __tablename__ = "observations"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    triage_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("triage_results.id"))


class Referral(Base):
    """A referral to a partner hospital through the green channel (checklist item 4)."""

    __tablename__ = "referrals"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    hospital: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16))  # sent | accepted | seen | feedback
    sent_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    feedback: Mapped[str | None] = mapped_column(Text)


class CareRecord(Base):
    """A talk, home visit, guardian contact, assessment or note in the student's file."""

    __tablename__ = "care_records"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    summary: Mapped[str] = mapped_column(Text)


class Incident(Base):
    """An extreme incident and its review (checklist item 5: ≥ 3,000 characters, 14 days)."""

    __tablename__ = "incidents"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("students.id"))
    kind: Mapped[str] = mapped_column(String(48))
    description: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    review_due_at: Mapped[datetime]
    report: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime | None]
    filed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    escalated_at: Mapped[datetime | None]


class SchoolCalendarRecord(Base):
    """A school's calendar for one school year: terms, exams, holidays, make-up workdays."""

    __tablename__ = "school_calendars"
    __table_args__ = (UniqueConstraint("school_id", "label"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    label: Mapped[str] = mapped_column(String(16))  # e.g. "2026-2027"
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    document: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class NotificationRoutes(Base):
    """A school's (or district's) channels per recipient role, with fallbacks."""

    __tablename__ = "notification_routes"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"), unique=True)
    district_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("districts.id"), unique=True)
    document: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class InboxItem(Base):
    """An in-app notification in a staff member's queue."""

    __tablename__ = "inbox_items"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(48))
    content: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class OperatorAlert(Base):
    """Raised when a notification finally fails on a channel: operators must look."""

    __tablename__ = "operator_alerts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(48))
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"))
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outbox.id"))
    detail: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]


class Consent(Base):
    """A guardian's consent or refusal for one student and campaign."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("campaign_id", "student_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # granted | refused | withdrawn
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    recorded_at: Mapped[datetime]
    # Issue 19 (data rights): the current decision's evidence; history in ``consent_events``.
    notice_version: Mapped[str | None] = mapped_column(String(32))
    # paper_slip | phone_call | in_person | online_form
    verification_method: Mapped[str | None] = mapped_column(String(16))
    verified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    withdrawal_channel: Mapped[str | None] = mapped_column(String(16))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


# --- data rights (issue 19) -------------------------------------------------------------------


class ConsentEvent(Base):
    """Append-only history of a guardian's decisions for one student and campaign: every grant,
    refusal and withdrawal, with the notice version and how it was verified (``consents`` holds
    the current decision)."""

    __tablename__ = "consent_events"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consents.id"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"))
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # granted | refused | withdrawn
    notice_version: Mapped[str | None] = mapped_column(String(32))
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    # paper_slip | phone_call | in_person | online_form (grants and refusals); for withdrawals
    # the channel it came through.
    method: Mapped[str | None] = mapped_column(String(16))
    verified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime]


class RetentionRun(Base):
    """One run of the retention job (``runxin retention run``, the sweeper's daily step): when,
    whether it only counted (dry run), and the counts per data kind. Ids and counts only."""

    __tablename__ = "retention_runs"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    counts: Mapped[dict[str, Any]]


class BreakGlassGrant(Base):
    """A district officer's time-boxed, reasoned access to one case's student (issue 19).

    While ``opened_at <= now < expires_at`` the officer's reads of that case and that student's
    file carry identities; every grant is audited and the school's care team is told.
    """

    __tablename__ = "break_glass_grants"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class WorkerHeartbeat(Base):
    """The last sign of life of each ``runxin worker`` process (issue 14): upserted every
    loop, read by ``/readyz`` and ``/metrics``. A process label (host and process id) and
    times only; rows of workers gone for a week are pruned by the next worker's beat."""

    __tablename__ = "worker_heartbeats"
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    last_beat_at: Mapped[datetime]


class NormTableRecord(Base):
    """A versioned norm table of one scale of one instrument (issue 16, ``runxin norms``).

    ``document`` is the whole table as a ``scoring.norms.NormDocument`` (groups with their
    n and rows of raw score, percentile rank and T-score): aggregates only, no student-level
    data. ``source`` is ``campaign:<id>`` or ``published: <citation>``.
    """

    __tablename__ = "norm_tables"
    __table_args__ = (UniqueConstraint("instrument_id", "scale", "version"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    instrument_id: Mapped[str] = mapped_column(String(64), index=True)
    scale: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    min_cell: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]


class CampaignNorm(Base):
    """The norm table a campaign's results of one instrument scale are read against.

    Display only: a T-score or percentile rank never changes a band, a tier or a flag.
    """

    __tablename__ = "campaign_norms"
    __table_args__ = (UniqueConstraint("campaign_id", "instrument_id", "scale"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(64))
    scale: Mapped[str] = mapped_column(String(64))
    norm_table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("norm_tables.id"), index=True)
    chosen_at: Mapped[datetime]
