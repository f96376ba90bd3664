"""Evaluation of the definition's condition language over one answer set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from instruments import (
    AllOf,
    AnswerIs,
    AnyOf,
    BandIs,
    Condition,
    CountIn,
    Not,
    ScoreIn,
    Unanswered,
)

from ._plan import scaled_lower, scaled_upper


@dataclass(frozen=True, slots=True)
class Context:
    """What a condition may look at.

    ``answers`` holds the raw (not reverse-keyed) values of answered items only;
    ``rounded`` the half-up rounded score of each scorable scale, in units of
    ``10**-decimals[scale]``; ``band`` the result's band once it is known.
    """

    answers: Mapping[str, int]
    rounded: Mapping[str, int]
    decimals: Mapping[str, int]
    band: str | None = None


def holds(cond: Condition, ctx: Context) -> bool:
    """Evaluate ``cond``; unanswered items never match an answer and a missing score is false."""
    if isinstance(cond, AnswerIs):
        value = ctx.answers.get(cond.item)
        return value is not None and value in cond.values
    if isinstance(cond, Unanswered):
        return cond.item not in ctx.answers
    if isinstance(cond, AnyOf):
        return any(holds(sub, ctx) for sub in cond.of)
    if isinstance(cond, AllOf):
        return all(holds(sub, ctx) for sub in cond.of)
    if isinstance(cond, Not):
        return not holds(cond.of, ctx)
    if isinstance(cond, ScoreIn):
        rounded = ctx.rounded.get(cond.scale)
        if rounded is None:
            return False
        d = ctx.decimals[cond.scale]
        low, high = scaled_lower(cond.min, d), scaled_upper(cond.max, d)
        return (low is None or rounded >= low) and (high is None or rounded <= high)
    if isinstance(cond, CountIn):
        count = sum(1 for item in cond.items if ctx.answers.get(item) in cond.values)
        return count >= cond.min and (cond.max is None or count <= cond.max)
    if isinstance(cond, BandIs):
        return ctx.band is not None and ctx.band in cond.bands
    raise TypeError(f"unknown condition {type(cond).__name__}")  # pragma: no cover
