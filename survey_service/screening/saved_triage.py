"""Critical answers are triaged wherever they are (issue 11): saved but never submitted.

A student who answers a suicide question "yes" and then closes the page has told us something
that must reach the care team even though the questionnaire was never submitted. The sweeper
calls :func:`triage_saved_answers` on every pass: a session that is not submitted, whose saved
answers hold a *critical answer* and whose last save is :data:`SAVED_TRIAGE_AFTER` or more
before ``now`` is triaged on its saved answers. The case opens through
:func:`~.cases.open_or_update_case`, exactly as for a submission (same deadlines, escalation
ladder and outbox notifications), with the reason :data:`SAVED_REASON_TEXT` added.

Once per saved state: ``ScreeningSession.saved_triaged_at`` records when the sweeper looked at
the saved answers (triaged or, without a critical answer, only checked), so the same answers
are never triaged twice and idle sessions are not re-scored on every pass. A later save makes
the session due again (``answers_saved_at > saved_triaged_at``): an acute answer added after
the first saved-answer triage is not missed either; an equal tier then only records a
``rescreened`` event on the open case (no second notification).

The saved-answer triage record has ``source="saved_answers"`` and no ``session_id`` (that
column is unique and belongs to the submission's record; its reason's evidence names the
session). A later submission of the session is triaged as usual and joins the open case.

Concurrency: candidate rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL
(two sweepers never take the same session; a session a student is saving or submitting right
now is left for the next pass); SQLite runs every write transaction ``BEGIN IMMEDIATE``, so
sweepers there run one after the other and the second finds ``saved_triaged_at`` set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import or_, select

import scoring
import triage
from instruments import Instrument, UnknownInstrumentError
from survey_service.cases.service import as_tier, find_open_case, open_or_update_case
from survey_service.db import AsyncSession, School, ScreeningSession, Student
from survey_service.screening.results import triage_row
from survey_service.services.runtime import Runtime

log = logging.getLogger(__name__)

# How long a session must have been idle (no save that changed anything) before its saved
# critical answers are triaged without a submission. Long enough that a student still working
# through the questionnaire (a part takes a few minutes; a lesson is 40-45 minutes and a
# student may pause to think or ask a teacher) is not reported half-way; short enough that the
# care team hears of it the same lesson block, well within the orange suicide pathway's
# same-day safety assessment. Project decision, issue 11.
SAVED_TRIAGE_AFTER = timedelta(minutes=30)

#: Sessions claimed per sweeper pass (keeps the sweep's one transaction short).
SAVED_TRIAGE_BATCH = 100

#: The ``source`` of a triage record made from saved, not submitted, answers.
SAVED_SOURCE = "saved_answers"

#: Flag severities that make a saved answer critical (``follow_up``, a blank critical
#: question, is not an answer: a student who has not reached a question did not refuse it).
CRITICAL_SEVERITIES = frozenset({"acute", "critical"})

SAVED_REASON_ID = "saved_answers_not_submitted"
SAVED_REASON_TEXT = {
    "zh-CN": "来自已保存但未提交的作答：学生保存了以上作答，但没有提交问卷。",
    "en": "From answers saved but not submitted: the student saved these answers and did not "
    "submit the questionnaire.",
}


class SavedTriageStats(msgspec.Struct):
    checked: int = 0  # sessions looked at (once per saved state)
    triaged: int = 0  # of those, triaged because a critical answer was saved
    cases: int = 0  # of those, a case opened or was updated


def answered(answers: Mapping[str, Any]) -> bool:
    return any(v is not None for v in answers.values())


def critical_flags(instrument: Instrument, answers: Mapping[str, Any]) -> tuple[scoring.Flag, ...]:
    """The acute/critical flags that the *given* answers raise on their own.

    A part-saved form is scored with every unanswered item set to its lowest option (``no`` /
    ``not at all``), so only answers the student actually gave raise a flag: an ASQ whose
    q2–q4 were not reached yet is not a "refusal" here, but a ``yes`` to q1 is critical, and
    PHQ item 9 above zero is. (All shipped instruments' critical flags fire on high answers
    or on bands reached through them; a definition whose lowest option were the risky one
    would need another rule.)
    """
    filled: dict[str, int | None] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            value = min((o.value for o in item.options), default=None)
        filled[item.id] = value
    result = scoring.score(instrument, filled)
    return tuple(f for f in result.flags if f.severity in CRITICAL_SEVERITIES)


def _saved_reason(result: triage.TriageResult, session: ScreeningSession) -> triage.Reason:
    saved_at = session.answers_saved_at
    return triage.Reason(
        rule_id=SAVED_REASON_ID,
        tier=result.tier,
        pathway=result.pathway or "suicide",  # a non-green result always has a pathway
        evidence={
            "source": SAVED_SOURCE,
            "session_id": str(session.id),
            "answers_saved_at": saved_at.isoformat() if saved_at else "",
        },
        text=dict(SAVED_REASON_TEXT),
    )


async def triage_saved_answers(
    db: AsyncSession, rt: Runtime, *, now: datetime, limit: int = SAVED_TRIAGE_BATCH
) -> SavedTriageStats:
    """Triage the critical answers of sessions saved :data:`SAVED_TRIAGE_AFTER` ago or more and
    never submitted (in the caller's transaction; never commits)."""
    stats = SavedTriageStats()
    due = (
        select(ScreeningSession)
        .where(
            ScreeningSession.status != "submitted",
            ScreeningSession.answers_saved_at.is_not(None),
            ScreeningSession.answers_saved_at <= now - SAVED_TRIAGE_AFTER,
            or_(
                ScreeningSession.saved_triaged_at.is_(None),
                ScreeningSession.saved_triaged_at < ScreeningSession.answers_saved_at,
            ),
        )
        .order_by(ScreeningSession.answers_saved_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    for session in (await db.scalars(due)).all():
        stats.checked += 1
        session.saved_triaged_at = now
        scores = _saved_scores(rt, session)
        if scores is None:
            continue
        stats.triaged += 1
        if await _triage(db, rt, session, scores, now):
            stats.cases += 1
    return stats


async def triage_before_erasing(
    db: AsyncSession, rt: Runtime, session: ScreeningSession, *, now: datetime
) -> bool:
    """Triage a session's saved critical answers *now*, however recently they were saved.

    Called just before saved answers are erased (a guardian's withdrawal of consent): a
    critical answer the student already gave must reach the care team and is never erased
    unseen (PIPL Art. 13: protecting a minor's life and health). Answers this saved state was
    already triaged on are not triaged again. Returns whether a case opened or was updated;
    in the caller's transaction, never commits.
    """
    if session.status == "submitted" or not session.partial_answers:
        return False
    saved_at, looked_at = session.answers_saved_at, session.saved_triaged_at
    if saved_at is not None and looked_at is not None and looked_at >= saved_at:
        return False  # the sweeper already triaged (or checked) exactly these answers
    session.saved_triaged_at = now
    scores = _saved_scores(rt, session)
    if scores is None:
        return False
    return await _triage(db, rt, session, scores, now)


def _saved_scores(rt: Runtime, session: ScreeningSession) -> list[scoring.ScoreResult] | None:
    """Scores of the instruments the student has begun, when a critical answer was saved."""
    saved: dict[str, Any] = session.partial_answers or {}
    scores: list[scoring.ScoreResult] = []
    critical = False
    for entry in session.battery:
        instrument_id = entry["instrument_id"]
        answers = saved.get(instrument_id) or {}
        if not answered(answers):
            continue  # not begun: nothing the student said, and not a refusal
        try:
            instrument = rt.catalogue.get(instrument_id)
            critical = critical or bool(critical_flags(instrument, answers))
            # Triaged as saved: a blank critical question of a begun form counts as the
            # policy says (as it would in a submission of these answers).
            scores.append(scoring.score(instrument, answers))
        except (UnknownInstrumentError, scoring.AnswerError) as exc:
            # No answers in the log: the session, the instrument and the kind of problem.
            log.warning(
                "saved-answer triage skipped instrument %s of session %s: %s",
                instrument_id,
                session.id,
                type(exc).__name__,
            )
    return scores if critical else None


async def _triage(
    db: AsyncSession,
    rt: Runtime,
    session: ScreeningSession,
    scores: list[scoring.ScoreResult],
    now: datetime,
) -> bool:
    student = await db.get_one(Student, session.student_id)
    school = await db.get_one(School, student.school_id)
    open_case = await find_open_case(db, student.id)
    result = triage.evaluate(
        scores,
        policy=rt.policy_for(school.code),
        open_case_tier=as_tier(open_case.tier) if open_case is not None else None,
    )
    if result.tier != "green":
        result = msgspec.structs.replace(
            result, reasons=(*result.reasons, _saved_reason(result, session))
        )
    # No session_id: it is unique, and the submission's record, if one comes, holds it.
    record = triage_row(result, student_id=student.id, now=now, source=SAVED_SOURCE)
    db.add(record)
    await db.flush()
    if result.tier == "green":
        return False
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
    return True
