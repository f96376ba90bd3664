"""The retention job (issue 19): deletes or pseudonymises expired data everywhere it lives.

What is expired is decided by the pure rules of :mod:`.retention_rules` (``now`` passed in);
this module finds the rows and changes them, in the caller's transaction (it never commits:
``runxin retention run --dry-run`` rolls the same work back and prints the counts).

Where each kind lives and what happens to it:

* answers — ``responses.answers`` and the sessions' saved answers are emptied, submission
  receipts (``idempotency_records``: the client's key and the reply) deleted;
* results — ``scores`` deleted, the triage records' reasons emptied (the row stays: a case
  refers to it; its tier stays for counts);
* case files (closed cases) — notes of case events and tasks, texts in their data, the
  closing reason, care-record summaries, plans' content, referrals' hospital and feedback,
  observations' notes, incidents' description and report: erased;
* notifications — outbox payloads cut to event and delivery id, last errors, delivery-attempt
  errors and operator alert texts erased; inbox items deleted;
* access — access-code and session-token digests replaced (no code or token works again);
* login attempts — deleted;
* identity — a student who left: name and student number become a stable pseudonym
  (``S-`` and 12 hex digits of an HMAC of the id under the secret key), birth date and gender
  are cleared, guardians' names become pseudonyms and their phones are cleared, names and
  reasons in consent records are cleared.

Never touched: the audit log (append-only, ids only), open cases and everything of a student
with an open case, pending notifications. Counts remain (rows of sessions, responses,
cases, triage tiers stay), so coverage and timeliness reports still add up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import and_, delete, func, or_, select

from survey_service.db import (
    AccessCode,
    AsyncSession,
    Base,
    Campaign,
    CareRecord,
    Case,
    CaseEvent,
    CaseTask,
    Consent,
    ConsentEvent,
    CrisisPlan,
    DeliveryAttempt,
    Guardian,
    IdempotencyRecord,
    InboxItem,
    Incident,
    Observation,
    OperatorAlert,
    OutboxMessage,
    Referral,
    Response,
    RetentionRun,
    Score,
    ScreeningSession,
    Student,
    TriageRecord,
)
from survey_service.security import digest
from survey_service.services import audit
from survey_service.services.retention_rules import (
    KINDS,
    RetentionPolicy,
    cutoff,
    expired,
    identity_expired,
    screening_expired,
)
from survey_service.settings import Settings

ERASED = "[erased: retention]"
ERASED_TOKEN = "erased"  # noqa: S105 - a marker, not a secret: no token digests to it
#: Keys of a case event's or task's ``data`` that may hold free text.
TEXT_KEYS = ("reason", "note", "summary", "text", "detail", "feedback", "comment")
#: The sweeper runs the job at most once in this interval.
RUN_EVERY = timedelta(days=1)


class RetentionReport(msgspec.Struct, frozen=True):
    """One run: per data kind, per table, how many rows were erased, deleted or
    pseudonymised (or would be, in a dry run)."""

    at: datetime
    dry_run: bool
    counts: dict[str, dict[str, int]]

    def total(self) -> int:
        return sum(n for tables in self.counts.values() for n in tables.values())


def policy_of(settings: Settings) -> RetentionPolicy:
    """The retention periods the settings name (``RUNXIN_RETENTION_<KIND>_DAYS``)."""
    return RetentionPolicy(**{k: int(getattr(settings, f"retention_{k}_days")) for k in KINDS})


def pseudonym(secret_key: str, kind: str, row_id: uuid.UUID) -> str:
    """A stable pseudonym: the same row always gets the same one; it reveals nothing."""
    prefix = {"student": "S", "guardian": "G"}[kind]
    return f"{prefix}-{digest(secret_key, f'retention:{kind}:{row_id}')[:12]}"


async def run_retention(
    db: AsyncSession,
    *,
    policy: RetentionPolicy,
    secret_key: str,
    now: datetime,
    dry_run: bool = False,
) -> RetentionReport:
    """Apply every rule once (in the caller's transaction; a dry run is the caller's rollback).

    A real run is recorded in ``retention_runs`` and the audit log (ids and counts only)."""
    held = set((await db.scalars(select(Case.student_id).where(Case.status != "closed"))).all())
    counts: dict[str, dict[str, int]] = {
        "answers": {},
        "results": {},
        **{k: {} for k in KINDS if k not in ("answers", "results", "withdrawn")},
    }
    await _screening(db, policy, now, held, counts)
    await _case_files(db, policy, now, held, counts["case_files"])
    await _notifications(db, policy, now, counts["notifications"], counts["inbox"])
    await _access(db, policy, now, counts["access"])
    await _login_attempts(db, policy, now, counts["login_attempts"])
    await _identity(
        db, policy, now=now, held=held, secret_key=secret_key, counts=counts["identity"]
    )
    report = RetentionReport(at=now, dry_run=dry_run, counts=counts)
    if not dry_run:
        run = RetentionRun(at=now, dry_run=False, counts=msgspec.to_builtins(counts))
        db.add(run)
        await db.flush()
        audit.record(
            db,
            actor_id=None,
            actor_role="system",
            action="retention.run",
            subject_type="retention_run",
            subject_ids=[run.id],
            school_id=None,
            now=now,
            detail={"changed": report.total()},
        )
    return report


async def due(db: AsyncSession, now: datetime) -> bool:
    """Whether the sweeper's daily run is due: no real run in the last :data:`RUN_EVERY`."""
    last = await db.scalar(select(func.max(RetentionRun.at)).where(RetentionRun.dry_run.is_(False)))
    return last is None or last <= now - RUN_EVERY


def _add(counts: dict[str, int], table: str, n: int) -> None:
    if n:
        counts[table] = counts.get(table, 0) + n


def _erase_texts(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``data`` with its free-text values erased, or None when it holds none."""
    if not data or not any(isinstance(data.get(k), str) and data[k] != ERASED for k in TEXT_KEYS):
        return None
    return {k: (ERASED if k in TEXT_KEYS and isinstance(v, str) else v) for k, v in data.items()}


async def _screening(
    db: AsyncSession,
    policy: RetentionPolicy,
    now: datetime,
    held: set[uuid.UUID],
    counts: dict[str, dict[str, int]],
) -> None:
    rows = (
        await db.execute(
            select(
                ScreeningSession.id,
                ScreeningSession.student_id,
                Campaign.closes_at,
                Consent.withdrawn_at,
            )
            .join(Campaign, Campaign.id == ScreeningSession.campaign_id)
            .outerjoin(
                Consent,
                and_(
                    Consent.campaign_id == ScreeningSession.campaign_id,
                    Consent.student_id == ScreeningSession.student_id,
                ),
            )
            .where(
                or_(
                    Campaign.closes_at <= cutoff(policy, "answers", now),
                    Campaign.closes_at <= cutoff(policy, "results", now),
                    Consent.withdrawn_at <= cutoff(policy, "withdrawn", now),
                )
            )
        )
    ).all()

    def sessions(kind: str) -> list[uuid.UUID]:
        return [
            sid
            for sid, student_id, closes_at, withdrawn_at in rows
            if screening_expired(
                policy,
                kind,
                closes_at=closes_at,
                withdrawn_at=withdrawn_at,
                now=now,
                held=student_id in held,
            )
        ]

    answers, results = sessions("answers"), sessions("results")
    for chunk in _chunks(answers):
        for response in (
            await db.scalars(select(Response).where(Response.session_id.in_(chunk)))
        ).all():
            if response.answers:
                response.answers = {}
                _add(counts["answers"], "responses", 1)
        for session in (
            await db.scalars(select(ScreeningSession).where(ScreeningSession.id.in_(chunk)))
        ).all():
            if session.partial_answers or session.answer_stamps:
                session.partial_answers, session.answer_stamps = {}, {}
                _add(counts["answers"], "screening_sessions", 1)
        gone = await db.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.session_id.in_(chunk))
        )
        _add(counts["answers"], "idempotency_records", _rowcount(gone))
    for chunk in _chunks(results):
        gone = await db.execute(delete(Score).where(Score.session_id.in_(chunk)))
        _add(counts["results"], "scores", _rowcount(gone))
        for record in (
            await db.scalars(select(TriageRecord).where(TriageRecord.session_id.in_(chunk)))
        ).all():
            if record.reasons:
                record.reasons = []
                _add(counts["results"], "triage_results", 1)
    # Triage records of observations (no session): from their evaluation.
    for record in (
        await db.scalars(
            select(TriageRecord).where(
                TriageRecord.session_id.is_(None),
                TriageRecord.evaluated_at <= cutoff(policy, "results", now),
            )
        )
    ).all():
        if record.reasons and expired(
            policy, "results", record.evaluated_at, now, held=record.student_id in held
        ):
            record.reasons = []
            _add(counts["results"], "triage_results", 1)


async def _case_files(
    db: AsyncSession,
    policy: RetentionPolicy,
    now: datetime,
    held: set[uuid.UUID],
    counts: dict[str, int],
) -> None:
    limit = cutoff(policy, "case_files", now)
    closed = [
        c
        for c in (
            await db.scalars(select(Case).where(Case.status == "closed", Case.closed_at <= limit))
        ).all()
        if expired(policy, "case_files", c.closed_at, now, held=c.student_id in held)
    ]
    case_ids = [c.id for c in closed]
    for case in closed:
        if case.closed_reason is not None and case.closed_reason != ERASED:
            case.closed_reason = ERASED
            _add(counts, "cases", 1)
    for chunk in _chunks(case_ids):
        for event in (
            await db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(chunk)))
        ).all():
            data = _erase_texts(event.data)
            if event.note is not None or data is not None:
                event.note = None
                event.data = data if data is not None else event.data
                _add(counts, "case_events", 1)
        for task in (await db.scalars(select(CaseTask).where(CaseTask.case_id.in_(chunk)))).all():
            data = _erase_texts(task.data)
            if task.note is not None or data is not None:
                task.note = None
                task.data = data if data is not None else task.data
                _add(counts, "case_tasks", 1)
        for referral in (
            await db.scalars(select(Referral).where(Referral.case_id.in_(chunk)))
        ).all():
            if referral.hospital != ERASED or referral.feedback is not None:
                referral.hospital, referral.feedback = ERASED, None
                _add(counts, "referrals", 1)
    closed_at = {c.id: c.closed_at for c in closed}
    for record in (
        await db.scalars(
            select(CareRecord).where(
                or_(CareRecord.case_id.in_(case_ids), CareRecord.case_id.is_(None)),
                CareRecord.summary != ERASED,
            )
        )
    ).all():
        anchor = closed_at.get(record.case_id) if record.case_id else record.at
        if expired(policy, "case_files", anchor, now, held=record.student_id in held):
            record.summary = ERASED
            _add(counts, "care_records", 1)
    for plan in (await db.scalars(select(CrisisPlan).where(CrisisPlan.created_at <= limit))).all():
        anchor = closed_at.get(plan.case_id) if plan.case_id else plan.created_at
        if plan.content and expired(
            policy, "case_files", anchor, now, held=plan.student_id in held
        ):
            plan.content = {}
            _add(counts, "crisis_plans", 1)
    for obs in (
        await db.scalars(
            select(Observation).where(
                Observation.recorded_at <= limit, Observation.note.is_not(None)
            )
        )
    ).all():
        if expired(policy, "case_files", obs.recorded_at, now, held=obs.student_id in held):
            obs.note = None
            _add(counts, "observations", 1)
    for incident in (await db.scalars(select(Incident).where(Incident.recorded_at <= limit))).all():
        anchor = incident.filed_at or incident.recorded_at
        if incident.description == ERASED and incident.report in (None, ERASED):
            continue
        if expired(policy, "case_files", anchor, now, held=incident.student_id in held):
            incident.description = ERASED
            incident.report = ERASED if incident.report is not None else None
            _add(counts, "incidents", 1)


async def _notifications(
    db: AsyncSession,
    policy: RetentionPolicy,
    now: datetime,
    counts: dict[str, int],
    inbox: dict[str, int],
) -> None:
    limit = cutoff(policy, "notifications", now)
    for message in (
        await db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status != "pending", OutboxMessage.created_at <= limit
            )
        )
    ).all():
        kept = {"event": message.event, "delivery_id": message.delivery_id, "erased": True}
        if message.payload != kept or message.last_error is not None:
            message.payload, message.last_error = kept, None
            _add(counts, "outbox", 1)
    for attempt in (
        await db.scalars(
            select(DeliveryAttempt).where(
                DeliveryAttempt.attempted_at <= limit, DeliveryAttempt.error.is_not(None)
            )
        )
    ).all():
        attempt.error = None
        _add(counts, "delivery_attempts", 1)
    for alert in (
        await db.scalars(
            select(OperatorAlert).where(OperatorAlert.at <= limit, OperatorAlert.detail != ERASED)
        )
    ).all():
        alert.detail = ERASED
        _add(counts, "operator_alerts", 1)
    gone = await db.execute(
        delete(InboxItem).where(InboxItem.created_at <= cutoff(policy, "inbox", now))
    )
    _add(inbox, "inbox_items", _rowcount(gone))


async def _access(
    db: AsyncSession, policy: RetentionPolicy, now: datetime, counts: dict[str, int]
) -> None:
    closed = select(Campaign.id).where(Campaign.closes_at <= cutoff(policy, "access", now))
    for code in (
        await db.scalars(
            select(AccessCode).where(
                AccessCode.campaign_id.in_(closed), ~AccessCode.code_digest.startswith("erased:")
            )
        )
    ).all():
        code.code_digest = f"erased:{code.id.hex}"  # never a digest: no code matches it
        _add(counts, "access_codes", 1)
    for session in (
        await db.scalars(
            select(ScreeningSession).where(
                ScreeningSession.campaign_id.in_(closed),
                ScreeningSession.token_digest != ERASED_TOKEN,
            )
        )
    ).all():
        session.token_digest = ERASED_TOKEN
        _add(counts, "screening_sessions", 1)


async def _login_attempts(
    db: AsyncSession, policy: RetentionPolicy, now: datetime, counts: dict[str, int]
) -> None:
    table = Base.metadata.tables.get("login_attempts")
    if table is None:
        return
    gone = await db.execute(
        delete(table).where(table.c.at <= cutoff(policy, "login_attempts", now))
    )
    _add(counts, "login_attempts", _rowcount(gone))


async def _identity(
    db: AsyncSession,
    policy: RetentionPolicy,
    *,
    now: datetime,
    held: set[uuid.UUID],
    secret_key: str,
    counts: dict[str, int],
) -> None:
    for student in (await db.scalars(select(Student).where(Student.status != "active"))).all():
        name = pseudonym(secret_key, "student", student.id)
        if student.name == name:
            continue  # done in an earlier run
        anchors = await _anchors(db, student.id)
        if not identity_expired(
            policy, active=False, anchors=anchors, now=now, held=student.id in held
        ):
            continue
        student.name = student.student_number = name
        student.birth_date, student.gender = None, None
        _add(counts, "students", 1)
        for guardian in (
            await db.scalars(select(Guardian).where(Guardian.student_id == student.id))
        ).all():
            guardian.name, guardian.phone = pseudonym(secret_key, "guardian", guardian.id), None
            _add(counts, "guardians", 1)
        for consent in (
            await db.scalars(select(Consent).where(Consent.student_id == student.id))
        ).all():
            consent.guardian_name = consent.withdrawal_reason = None
            _add(counts, "consents", 1)
        for event in (
            await db.scalars(select(ConsentEvent).where(ConsentEvent.student_id == student.id))
        ).all():
            event.guardian_name = event.reason = None
            _add(counts, "consent_events", 1)


async def _anchors(db: AsyncSession, student_id: uuid.UUID) -> list[datetime | None]:
    """When the purposes of a student's data last ran: campaigns they were in closed, cases
    closed, observations and care records made."""
    return [
        await db.scalar(
            select(func.max(Campaign.closes_at))
            .join(AccessCode, AccessCode.campaign_id == Campaign.id)
            .where(AccessCode.student_id == student_id)
        ),
        await db.scalar(select(func.max(Case.closed_at)).where(Case.student_id == student_id)),
        await db.scalar(
            select(func.max(Observation.recorded_at)).where(Observation.student_id == student_id)
        ),
        await db.scalar(select(func.max(CareRecord.at)).where(CareRecord.student_id == student_id)),
    ]


def _chunks(ids: Iterable[uuid.UUID], size: int = 500) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _rowcount(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)
