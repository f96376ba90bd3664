"""Frozen result objects returned by the scorers (the stable public contract)."""

from __future__ import annotations

from typing import Literal

import msgspec

ScoreStatus = Literal["scored", "unscorable", "invalid"]
FlagSeverity = Literal["acute", "critical", "follow_up"]


class Flag(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A critical-item flag, raised whatever the total.

    ``code`` is a stable identifier declared in the instrument definition (for example
    ``phq_item9_positive`` or ``asq_acute``); ``severity`` is ``acute`` (imminent risk),
    ``critical`` (suicide-related, needs same-day follow-up) or ``follow_up`` (a critical item
    was left unanswered).
    """

    code: str
    severity: FlagSeverity
    item_id: str | None = None


class SubscaleResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Score of one subscale; ``score`` is ``None`` when the subscale is unscorable.

    ``t_score`` is the unrounded T-score of a subscale scored against norms (``None``
    otherwise, or when no norm group matches the student); ``band`` and ``positive`` then
    come from the T-score rounded half up.
    """

    subscale_id: str
    status: ScoreStatus
    score: float | None
    prorated: bool = False
    band: str | None = None
    positive: bool | None = None
    t_score: float | None = None


class ScoreResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Result of scoring one response to one instrument.

    ``total`` is kept unrounded (a prorated total may be fractional); ``band`` is decided on
    the total rounded half up. ``positive`` says whether the total is at or above the
    instrument's screening cut-off (``None`` when there is none or the form is unscorable).
    ``highest_band`` is true when ``band`` is the instrument's most severe band. ``t_score``
    is the total's unrounded T-score when the total is scored against norms (its ``band`` and
    ``positive`` then come from the T-score).
    """

    instrument_id: str
    instrument_version: str
    status: ScoreStatus
    total: float | None
    band: str | None
    prorated: bool
    answered: int
    missing: tuple[str, ...]
    subscales: tuple[SubscaleResult, ...] = ()
    flags: tuple[Flag, ...] = ()
    positive: bool | None = None
    highest_band: bool = False
    t_score: float | None = None
