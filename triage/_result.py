"""Frozen result objects of the triage policy (the stable public contract)."""

from __future__ import annotations

from typing import Literal

import msgspec

Tier = Literal["green", "yellow", "orange", "red"]
TIER_ORDER: dict[str, int] = {"green": 0, "yellow": 1, "orange": 2, "red": 3}


class Reason(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Why a tier was given: the rule that fired and the evidence it saw.

    ``evidence`` names instrument ids, item ids, flag codes, totals or bands, never answers in
    free text; ``text`` is the human-readable reason in ``en`` and ``zh-CN``.
    """

    rule_id: str
    tier: Tier
    pathway: str
    evidence: dict[str, str]
    text: dict[str, str]


class TriageResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The tier given to one screening session with every reason that produced it."""

    tier: Tier
    pathway: str | None
    reasons: tuple[Reason, ...]
    policy_version: str
