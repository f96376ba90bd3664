"""The one constructor of stored ``Score`` rows from a scorer's ``ScoreResult``."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

import scoring

from ..db import Score

__all__ = ["score_row"]


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
        response_id=response_id,
        session_id=session_id,
        student_id=student_id,
        instrument_id=result.instrument_id,
        instrument_version=result.instrument_version,
        status=result.status,
        total=result.total,
        band=result.band,
        prorated=result.prorated,
        positive=result.positive,
        subscales=[msgspec.to_builtins(s) for s in result.subscales],
        flags=[msgspec.to_builtins(f) for f in result.flags],
        scored_at=now,
    )
