"""The constructors of stored results: ``Score`` rows from a scorer's ``ScoreResult`` and
``TriageRecord`` rows from a ``TriageResult`` (submission, saved answers, observation)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

import scoring
import triage
from survey_service.db import Score, TriageRecord

__all__ = ["score_row", "score_values", "triage_row"]


def score_row(
    result: scoring.ScoreResult,
    *,
    response_id: uuid.UUID,
    session_id: uuid.UUID,
    student_id: uuid.UUID,
    now: datetime,
) -> Score:
    """A ``Score`` row of ``result`` for one stored response (add it to the session)."""
    return Score(
        **score_values(
            result, response_id=response_id, session_id=session_id, student_id=student_id, now=now
        )
    )


def score_values(
    result: scoring.ScoreResult,
    *,
    response_id: uuid.UUID,
    session_id: uuid.UUID,
    student_id: uuid.UUID,
    now: datetime,
) -> dict[str, object]:
    """The column values of :func:`score_row`, for a multi-row ``INSERT`` (the id is set by the
    column's default)."""
    return {
        "response_id": response_id,
        "session_id": session_id,
        "student_id": student_id,
        "instrument_id": result.instrument_id,
        "instrument_version": result.instrument_version,
        "status": result.status,
        "total": result.total,
        "band": result.band,
        "prorated": result.prorated,
        "positive": result.positive,
        "subscales": [msgspec.to_builtins(s) for s in result.subscales],
        "flags": [msgspec.to_builtins(f) for f in result.flags],
        "scored_at": now,
    }


def triage_row(
    result: triage.TriageResult,
    *,
    student_id: uuid.UUID,
    now: datetime,
    session_id: uuid.UUID | None = None,
    source: str = "screening",
) -> TriageRecord:
    """A stored triage result with its reasons (add it to the session)."""
    return TriageRecord(
        id=uuid.uuid4(),
        session_id=session_id,
        source=source,
        student_id=student_id,
        tier=result.tier,
        pathway=result.pathway,
        reasons=[msgspec.to_builtins(r) for r in result.reasons],
        policy_version=result.policy_version,
        evaluated_at=now,
    )
