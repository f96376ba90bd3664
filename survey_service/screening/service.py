"""A student's screening: start (or resume) a session, then submit it exactly once.

A guardian access code (``AccessCode.respondent == "parent"``) starts the guardian's own
session of the campaign's ``guardian_battery``: a separate session, never the student's, whose
responses and scores are the student's and are triaged through the same path.

A submission is one transaction: responses, scores, the triage result, the case (tier at least
yellow) and its outbox rows are written together, or nothing is.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import insert, select, update

import scoring
import triage
from instruments import Instrument, UnknownInstrumentError
from survey_service.campaigns import consents
from survey_service.campaigns.service import battery_for, consent_needed, guardian_battery
from survey_service.cases.service import as_tier, find_open_case, open_or_update_case
from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    Case,
    Consent,
    IdempotencyRecord,
    Response,
    School,
    SchoolClass,
    Score,
    ScreeningSession,
    Student,
)
from survey_service.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ServiceError,
    Unauthorized,
    Unprocessable,
)
from survey_service.observability import metrics
from survey_service.screening.help_contacts import help_contacts
from survey_service.screening.results import score_values, triage_row
from survey_service.screening.saved_answers import SavedState, Stamp, union_for_submission
from survey_service.screening.saved_answers import merge as merge_saved
from survey_service.screening.schemas import (
    InstrumentOut,
    ItemOut,
    OptionOut,
    StartSessionResponse,
    SubmissionReceipt,
    SubmissionRequest,
)
from survey_service.security import digest, new_token, normalize_access_code
from survey_service.services.runtime import Runtime

_CANONICAL = msgspec.json.Encoder(order="sorted")

FALLBACK_NOTICE = {
    "zh-CN": "本问卷暂无已发表的简体中文版本，以下为英文原版。",
    "en": "No published Simplified Chinese version of this questionnaire is available; "
    "it is shown in its original English.",
}
UNVALIDATED_NOTICE = {
    "zh-CN": "本问卷的此语言版本尚未经过验证，结果仅供参考。",
    "en": "This language version of the questionnaire has not been validated.",
}
RECEIVED_MESSAGE = {
    "zh-CN": "你的问卷已经提交，谢谢你认真作答。"
    "如果你现在感到难过或需要帮助，请随时联系下面的热线或学校心理老师。",
    "en": "Your answers have been received. Thank you. If you feel upset or need help now, "
    "contact one of the lines below or your school counsellor at any time.",
}
GUARDIAN_RECEIVED_MESSAGE = {
    "zh-CN": "您关于孩子的问卷已经提交，谢谢您。"
    "如果您担心孩子现在的安全，或孩子需要帮助，请随时联系下面的热线或学校心理老师。",
    "en": "Your answers about your child have been received. Thank you. If you are worried "
    "about your child's safety now or your child needs help, contact one of the lines below "
    "or the school counsellor at any time.",
}
MAX_IDEMPOTENCY_KEY = 200


async def start_session(
    db: AsyncSession, rt: Runtime, *, access_code: str, language: str, now: datetime
) -> tuple[bool, StartSessionResponse]:
    """Start a session for an access code, or resume the unsubmitted one (new token).

    Returns ``(created, response)``. Raises ``NotFound`` for an unknown code, ``Conflict`` for a
    used code or a campaign not yet open, ``Gone`` once the code or campaign window has closed.
    """
    normalized = normalize_access_code(access_code)
    if not normalized or len(normalized) > 64:
        raise BadRequest("access_code is empty or too long", code="invalid_access_code")
    code = await db.scalar(
        select(AccessCode)
        .where(AccessCode.code_digest == digest(rt.settings.secret_key, normalized))
        .with_for_update()
    )
    if code is None:
        raise NotFound(
            "This access code is not recognised",
            code="unknown_access_code",
            message={
                "zh-CN": "这个登录码无效，请核对后重新输入，或询问你的老师。",
                "en": "This access code is not valid. Check it and try again, or ask your teacher.",
            },
        )
    if code.used_at is not None:
        raise Conflict(
            "This access code has already been used for a submitted screening",
            code="access_code_used",
            message={
                "zh-CN": "这个登录码已经提交过问卷，不能再次使用。如有疑问请询问你的老师。",
                "en": "This access code has already been used. Ask your teacher if this is wrong.",
            },
        )
    campaign = await db.get_one(Campaign, code.campaign_id)
    if now < campaign.opens_at:
        raise Conflict(
            "The screening has not opened yet",
            code="campaign_not_open",
            message={"zh-CN": "本次测评尚未开始。", "en": "This screening has not opened yet."},
        )
    if now >= min(code.expires_at, campaign.closes_at):
        raise Gone(
            "The screening window has closed for this access code",
            code="access_code_expired",
            message={"zh-CN": "本次测评已经结束。", "en": "This screening has closed."},
        )
    student = await db.get_one(Student, code.student_id)
    school = await _check_may_take_part(
        db, campaign, student, now, guardian=code.respondent == "parent"
    )
    token = new_token()
    session = await db.scalar(
        select(ScreeningSession).where(ScreeningSession.access_code_id == code.id)
    )
    created = session is None
    if session is None:
        if code.respondent == "parent":
            ids = guardian_battery(campaign)
        else:
            klass = await db.get_one(SchoolClass, student.class_id)
            ids = battery_for(campaign, klass.grade)
        if not ids and code.respondent == "parent":
            raise Conflict(
                "The campaign has no guardian questionnaire for this access code",
                code="empty_battery",
                message={
                    "zh-CN": "本次测评没有需要家长填写的问卷。如有疑问请联系学校。",
                    "en": "There is no questionnaire for parents in this screening. "
                    "Ask the school if this is wrong.",
                },
            )
        battery = [_instrument(rt, iid) for iid in ids]
        session = ScreeningSession(
            id=uuid.uuid4(),
            campaign_id=campaign.id,
            student_id=code.student_id,
            access_code_id=code.id,
            respondent=code.respondent,
            token_digest=digest(rt.settings.secret_key, token),
            language=language,
            status="started",
            battery=[{"instrument_id": i.id, "version": i.version} for i in battery],
            started_at=now,
            submitted_at=None,
            partial_answers={},
            quality_flags=[],
        )
        db.add(session)
    else:
        # Resuming on another device: the old token stops working.
        session.token_digest = digest(rt.settings.secret_key, token)
        session.language = language
        battery = [_instrument(rt, b["instrument_id"]) for b in session.battery]
    return created, StartSessionResponse(
        session_id=session.id,
        session_token=token,
        language=language,
        resumed=not created,
        expires_at=min(code.expires_at, campaign.closes_at),
        battery=[instrument_out(i, language) for i in battery],
        help_contacts=help_contacts(school),
        saved_answers={k: dict(v) for k, v in (session.partial_answers or {}).items()},
        answers_version=session.answers_version or 0,
        respondent=session.respondent,
    )


async def submit(
    db: AsyncSession,
    rt: Runtime,
    *,
    session_id: uuid.UUID,
    session_token: str | None,
    idempotency_key: str | None,
    request: SubmissionRequest,
    now: datetime,
) -> tuple[int, SubmissionReceipt]:
    """Score, triage and store a submission atomically; replay it for a repeated key.

    Returns ``(status_code, receipt)``: 201 the first time, the same reply for the same
    ``Idempotency-Key`` and body. A new key for a submitted session is ``Conflict``.
    Every decision is counted for ``/metrics`` (accepted, replayed, or refused by its problem
    code; ``observability.metrics``).
    """
    try:
        status, receipt, replayed = await _submit(
            db,
            rt,
            session_id=session_id,
            session_token=session_token,
            idempotency_key=idempotency_key,
            request=request,
            now=now,
        )
    except ServiceError as exc:
        metrics.submission_rejected(exc.code)
        raise
    metrics.submission_accepted(replayed=replayed)
    return status, receipt


async def _submit(
    db: AsyncSession,
    rt: Runtime,
    *,
    session_id: uuid.UUID,
    session_token: str | None,
    idempotency_key: str | None,
    request: SubmissionRequest,
    now: datetime,
) -> tuple[int, SubmissionReceipt, bool]:
    """:func:`submit`; the third value says whether the reply is a replay."""
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise BadRequest(
            f"The Idempotency-Key header is required (1 to {MAX_IDEMPOTENCY_KEY} characters)",
            code="idempotency_key_required",
        )
    session = await _locked_session(db, rt, session_id, session_token)
    request_digest = hashlib.sha256(_CANONICAL.encode(request.answers)).hexdigest()
    previous = await db.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.session_id == session.id, IdempotencyRecord.key == idempotency_key
        )
    )
    if previous is not None:
        if previous.request_digest != request_digest:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different body",
                code="idempotency_key_reused",
            )
        receipt = msgspec.convert(previous.body, SubmissionReceipt, strict=False)
        return previous.status_code, receipt, True
    if session.status == "withdrawn":
        _refuse_withdrawn(guardian=session.respondent == "parent")
    if session.status == "submitted":
        raise Conflict(
            "This session has already been submitted",
            code="already_submitted",
            message={"zh-CN": "问卷已经提交过了。", "en": "This screening was already submitted."},
        )
    campaign = await db.get_one(Campaign, session.campaign_id)
    if now >= campaign.closes_at:
        raise Gone("The screening window has closed", code="campaign_closed")

    _score_all(rt, session.battery, request.answers)  # the body's own errors, by item
    # Scored on the union of what was saved and what the submission carries, the latest per
    # item: a null in the submission never erases an answer the student saved.
    state = saved_state(session)
    _store_saved(session, merge_saved(state, request.answers).state)
    items = {
        b["instrument_id"]: _instrument(rt, b["instrument_id"]).item_ids for b in session.battery
    }
    results = _score_all(rt, session.battery, union_for_submission(items, state, request.answers))
    # The student's row, locked (FOR NO KEY UPDATE, see cases.find_open_case) before this
    # submission writes rows that refer to it; with the school in the same statement.
    student, school = (
        await db.execute(
            select(Student, School)
            .join(School, School.id == Student.school_id)
            .where(Student.id == session.student_id)
            .with_for_update(of=Student, key_share=True)
        )
    ).one()

    # Written with two multi-row INSERTs (responses, then the scores that refer to them): the
    # rows are not read back in this transaction, so they skip the unit of work.
    response_ids = [uuid.uuid4() for _ in results]
    await db.execute(
        insert(Response),
        [
            {
                "id": response_id,
                "session_id": session.id,
                "student_id": student.id,
                "instrument_id": instrument.id,
                "instrument_version": instrument.version,
                "answers": dict(answers),
                "submitted_at": now,
                "language": instrument.resolve_language(session.language),
                "language_status": instrument.languages[
                    instrument.resolve_language(session.language)
                ].status,
                "respondent": session.respondent,
            }
            for response_id, (instrument, answers, _) in zip(response_ids, results, strict=True)
        ],
    )
    await db.execute(
        insert(Score),
        [
            score_values(
                scored,
                response_id=response_id,
                session_id=session.id,
                student_id=session.student_id,
                now=now,
            )
            for response_id, (_, _, scored) in zip(response_ids, results, strict=True)
        ],
    )

    open_case, result = await _evaluate(
        db, rt.policy_for(school.code), student.id, [r for _, _, r in results], student_locked=True
    )
    record = triage_row(result, student_id=student.id, now=now, session_id=session.id)
    db.add(record)
    await db.flush()
    if result.tier != "green":
        await open_or_update_case(
            db,
            rt,
            student=student,
            school=school,
            result=result,
            triage_row=record,
            open_case=open_case,
            now=now,
        )

    session.status = "submitted"
    session.submitted_at = now
    session.quality_flags = quality_flags(
        results=[(i, a) for i, a, _ in results], seconds=(now - session.started_at).total_seconds()
    )
    await db.execute(
        update(AccessCode).where(AccessCode.id == session.access_code_id).values(used_at=now)
    )
    receipt = SubmissionReceipt(
        session_id=session.id,
        status="received",
        received_at=now,
        message=GUARDIAN_RECEIVED_MESSAGE if session.respondent == "parent" else RECEIVED_MESSAGE,
        help_contacts=help_contacts(school),
    )
    db.add(
        IdempotencyRecord(
            session_id=session.id,
            key=idempotency_key,
            request_digest=request_digest,
            status_code=201,
            body=msgspec.to_builtins(receipt),
            created_at=now,
        )
    )
    return 201, receipt, False


async def _check_may_take_part(
    db: AsyncSession, campaign: Campaign, student: Student, now: datetime, *, guardian: bool
) -> School:
    """Consent rule of the campaign and the student's roster status (issue 6); the same for
    the guardian's forms about the student, told to the guardian (``guardian``). Returns the
    campaign's school (the student's)."""
    if student.status != "active":
        raise Conflict(
            "This student is no longer on the school's roster",
            code="student_not_active",
            message=GUARDIAN_NOT_ACTIVE
            if guardian
            else {
                "zh-CN": "你的学籍信息已变更，请联系老师。",
                "en": "Your school record has changed; please ask your teacher.",
            },
        )
    consent = await db.scalar(
        select(Consent).where(Consent.campaign_id == campaign.id, Consent.student_id == student.id)
    )
    if consent is not None and consent.status == "withdrawn":
        _refuse_withdrawn(guardian=guardian)
    if consent is not None and consent.status == "refused":
        raise Forbidden(
            "A guardian declined this screening for the student",
            code="consent_refused",
            message=GUARDIAN_CONSENT_REFUSED
            if guardian
            else {
                "zh-CN": "你的监护人没有同意参加本次测评，不需要作答。",
                "en": "Your guardian did not agree to this screening; you do "
                "not need to answer it.",
            },
        )
    school = await db.get_one(School, campaign.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    if consent is None and consent_needed(campaign, student, today):
        raise Forbidden(
            "A guardian's consent is needed before this student can start",
            code="consent_required",
            message=GUARDIAN_CONSENT_REQUIRED
            if guardian
            else {
                "zh-CN": "本次测评需要监护人同意。请先把知情同意书交给老师。",
                "en": "This screening needs your guardian's consent first. "
                "Please hand the consent form to your teacher.",
            },
        )
    return school


def _refuse_withdrawn(*, guardian: bool) -> None:
    """A guardian withdrew consent (issue 19): nothing more is processed for the campaign."""
    raise Forbidden(
        "A guardian withdrew consent to this screening for the student",
        code="consent_withdrawn",
        message=consents.GUARDIAN_CONSENT_WITHDRAWN
        if guardian
        else consents.STUDENT_CONSENT_WITHDRAWN,
    )


GUARDIAN_NOT_ACTIVE = {
    "zh-CN": "孩子的学籍信息已变更，请联系学校。",
    "en": "Your child's school record has changed; please contact the school.",
}
GUARDIAN_CONSENT_REFUSED = {
    "zh-CN": "学校记录显示您没有同意孩子参加本次测评，因此不需要填写。如需更改，请联系学校。",
    "en": "The school has recorded that you did not agree to this screening for your child, "
    "so there is nothing to answer. Contact the school to change this.",
}
GUARDIAN_CONSENT_REQUIRED = {
    "zh-CN": "本次测评需要先交回知情同意书。请把签好的同意书交给孩子的班主任后再填写。",
    "en": "This screening needs your signed consent form first. Please return it to your "
    "child's head teacher, then answer.",
}


def _instrument(rt: Runtime, instrument_id: str) -> Instrument:
    try:
        return rt.catalogue.get(instrument_id)
    except UnknownInstrumentError as exc:
        raise Unprocessable(
            f"The campaign's battery names an instrument that is not installed: {instrument_id}",
            code="unknown_instrument",
        ) from exc


def instrument_out(instrument: Instrument, requested: str) -> InstrumentOut:
    """An instrument as delivered in ``requested`` (or its published fallback, with a notice)."""
    lang = instrument.resolve_language(requested)
    status = instrument.languages[lang].status
    notice = None
    if lang != requested:
        notice = FALLBACK_NOTICE
    elif status != "validated":
        notice = UNVALIDATED_NOTICE
    return InstrumentOut(
        instrument_id=instrument.id,
        version=instrument.version,
        title=instrument.title[lang],
        instructions=instrument.instructions[lang],
        language=lang,
        language_status=status,
        language_notice=notice,
        items=[
            ItemOut(
                item_id=item.id,
                text=item.text[lang],
                options=[OptionOut(value=o.value, text=o.text[lang]) for o in item.options],
            )
            for item in instrument.items
        ],
    )


def _score_all(
    rt: Runtime, battery: list[dict[str, str]], answers: dict[str, dict[str, Any]]
) -> list[tuple[Instrument, dict[str, Any], scoring.ScoreResult]]:
    expected = [b["instrument_id"] for b in battery]
    unknown = sorted(set(answers) - set(expected))
    if unknown:
        raise Unprocessable(
            f"answers name instruments that are not in this session's battery: {', '.join(unknown)}"
            f" (expected: {', '.join(expected)})",
            code="unknown_instrument",
            extra={"instrument_ids": unknown},
        )
    missing = [i for i in expected if i not in answers]
    if missing:
        raise Unprocessable(
            f"answers are missing for: {', '.join(missing)} (send null for unanswered items)",
            code="missing_instrument",
            extra={"instrument_ids": missing},
        )
    scored = []
    errors: list[dict[str, str | None]] = []
    for instrument_id in expected:
        instrument = _instrument(rt, instrument_id)
        try:
            scored.append(
                (
                    instrument,
                    answers[instrument_id],
                    scoring.score(instrument, answers[instrument_id]),
                )
            )
        except scoring.AnswerError as exc:
            errors.append(
                {"instrument_id": instrument_id, "item_id": exc.item_id, "message": str(exc)}
            )
    if errors:
        raise Unprocessable(
            "; ".join(f"{e['instrument_id']}: {e['message']}" for e in errors),
            code="invalid_answer",
            extra={"errors": errors},
        )
    return scored


async def _evaluate(
    db: AsyncSession,
    policy: triage.Policy,
    student_id: uuid.UUID,
    results: list[scoring.ScoreResult],
    *,
    student_locked: bool = False,
) -> tuple[Case | None, triage.TriageResult]:
    open_case = await find_open_case(db, student_id, student_locked=student_locked)
    result = triage.evaluate(
        results,
        policy=policy,
        open_case_tier=as_tier(open_case.tier) if open_case is not None else None,
    )
    return open_case, result


# Response quality (issue 6). Thresholds are a project decision, documented here: reading an
# item and choosing an answer takes a few seconds; under 1 s per answered item on average is
# implausible. Identical answers across a whole form of 8 or more items (straight-lining) are
# flagged too. Flags inform the counsellor; the result still triages.
SPEEDING_SECONDS_PER_ITEM = 1.0
STRAIGHT_LINE_MIN_ITEMS = 8


def quality_flags(
    *, results: list[tuple[Instrument, dict[str, Any]]], seconds: float
) -> list[dict[str, object]]:
    """Speeding and straight-lining flags for one submission."""
    flags: list[dict[str, object]] = []
    answered = sum(1 for _, a in results for v in a.values() if v is not None)
    if answered and seconds < SPEEDING_SECONDS_PER_ITEM * answered:
        flags.append({"code": "speeding", "seconds": round(seconds, 1), "answered": answered})
    for instrument, answers in results:
        values = [answers.get(item_id) for item_id in instrument.scoring.scored_items]
        if len(values) >= STRAIGHT_LINE_MIN_ITEMS and None not in values and len(set(values)) == 1:
            flags.append({"code": "straight_lining", "instrument_id": instrument.id})
    return flags


async def save_partial(
    db: AsyncSession,
    rt: Runtime,
    *,
    session_id: uuid.UUID,
    session_token: str | None,
    answers: dict[str, dict[str, Any]],
    now: datetime,
    stamp: Stamp | None = None,
) -> SavedState:
    """Save answers as the student goes; returns everything saved so far.

    Each value is checked against its item's options (or ``null``: left out); nothing is saved
    when any value is bad. Saves merge by the monotonic rule of :mod:`.saved_answers`: an empty
    or older save never replaces a newer answer, whatever order concurrent requests commit in.
    Resuming on another device returns these answers.
    """
    session = await _locked_session(db, rt, session_id, session_token)
    if session.status == "withdrawn":
        _refuse_withdrawn(guardian=session.respondent == "parent")
    if session.status == "submitted":
        raise Conflict("This session has already been submitted", code="already_submitted")
    campaign = await db.get_one(Campaign, session.campaign_id)
    if now >= campaign.closes_at:
        raise Gone("The screening window has closed", code="campaign_closed")
    battery = {b["instrument_id"] for b in session.battery}
    errors = []
    for instrument_id, items in answers.items():
        if instrument_id not in battery:
            errors.append(f"{instrument_id}: not in this session's battery")
            continue
        instrument = _instrument(rt, instrument_id)
        known = {item.id: {o.value for o in item.options} for item in instrument.items}
        for item_id, value in items.items():
            if item_id not in known:
                errors.append(f"{instrument_id}: unknown item {item_id!r}")
            elif value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value not in known[item_id]
            ):
                errors.append(
                    f"{instrument_id}: item {item_id!r} must be one of "
                    f"{sorted(known[item_id])} or null, got {value!r}"
                )
    if errors:
        raise Unprocessable("; ".join(errors), code="invalid_answer")
    result = merge_saved(saved_state(session), answers, stamp)
    if result.changed:
        _store_saved(session, result.state)
        session.answers_saved_at = now
    return result.state


def saved_state(session: ScreeningSession) -> SavedState:
    """The session's saved answers, stamps and save counter."""
    return SavedState(
        answers=session.partial_answers or {},
        stamps=session.answer_stamps or {},
        version=session.answers_version or 0,
    )


def _store_saved(session: ScreeningSession, state: SavedState) -> None:
    # New dicts (not mutated ones): the JSON columns are not mutation-tracked.
    session.partial_answers = {k: dict(v) for k, v in state.answers.items()}
    session.answer_stamps = {k: dict(v) for k, v in state.stamps.items()}
    session.answers_version = state.version


async def _locked_session(
    db: AsyncSession, rt: Runtime, session_id: uuid.UUID, session_token: str | None
) -> ScreeningSession:
    """The session row, locked for this transaction and read afresh, after the token check.

    ``populate_existing``: a page handler may already hold the row in the identity map from a
    read before the lock; without it the lock would protect a stale copy (PostgreSQL runs
    READ COMMITTED, so the other transaction's committed answers would be overwritten).
    """
    session = await db.scalar(
        select(ScreeningSession)
        .where(ScreeningSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        session is None
        or not session_token
        or not hmac.compare_digest(
            session.token_digest, digest(rt.settings.secret_key, session_token)
        )
    ):
        raise Unauthorized(
            "The session token is missing or not valid for this session",
            code="invalid_session_token",
        )
    return session
