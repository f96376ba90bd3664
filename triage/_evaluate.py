"""Evaluate scores and staff observations against a policy into a tier with reasons."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Literal, get_args

import msgspec

from scoring import round_half_up
from scoring._result import Flag, ScoreResult, SubscaleResult
from triage._policy import Condition, Policy, Rule
from triage._result import TIER_ORDER, Reason, Tier, TriageResult

__all__ = ["OPEN_CASE_RULE_ID", "Observation", "ObservationSeverity", "evaluate"]

ObservationSeverity = Literal["concern", "serious", "imminent_danger"]
_OBSERVATION_SEVERITIES = frozenset(get_args(ObservationSeverity))

#: ``rule_id`` of the reason added when an open case keeps its higher tier.
OPEN_CASE_RULE_ID = "open_case_tier_kept"
#: ``pathway`` of that reason (and of the result it gives).
OPEN_CASE_PATHWAY = "open_case"


class Observation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A staff member's recorded observation of a student.

    Parameters
    ----------
    kind : str
        What was observed, as a short code (e.g. ``"self_harm_talk"``, ``"withdrawal"``).
    severity : {"concern", "serious", "imminent_danger"}
        How urgent the observer judged it.
    note : str or None
        Free text. Never copied into reasons or evidence.
    """

    kind: str
    severity: ObservationSeverity
    note: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind.strip():
            raise ValueError("Observation.kind must be a non-empty string")
        if self.severity not in _OBSERVATION_SEVERITIES:
            raise ValueError(
                f"Observation.severity must be one of {sorted(_OBSERVATION_SEVERITIES)}, "
                f"got {self.severity!r}"
            )
        if self.note is not None and not isinstance(self.note, str):
            raise ValueError("Observation.note must be a string or None")


def _rounded(value: float) -> int:
    """A total as compared with cut-offs: rounded half up by the scorer's one rule
    (:func:`scoring.round_half_up`; 19.5 gives 20)."""
    return int(round_half_up(value))


def _format_number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _score_evidence(score: ScoreResult) -> dict[str, str]:
    evidence = {
        "instrument_id": score.instrument_id,
        "instrument_version": score.instrument_version,
        "status": score.status,
    }
    if score.total is not None:
        evidence["total"] = _format_number(score.total)
        evidence["total_rounded"] = str(_rounded(score.total))
    if score.band is not None:
        evidence["band"] = score.band
    if score.prorated:
        evidence["prorated"] = "true"
    return evidence


def _flag_evidence(score: ScoreResult, flag: Flag) -> dict[str, str]:
    evidence = _score_evidence(score)
    evidence["flag"] = flag.code
    evidence["flag_severity"] = flag.severity
    if flag.item_id is not None:
        evidence["item_id"] = flag.item_id
    return evidence


def _subscale_evidence(score: ScoreResult, subscale: SubscaleResult) -> dict[str, str]:
    evidence = _score_evidence(score)
    evidence["subscale_id"] = subscale.subscale_id
    if subscale.score is not None:
        evidence["subscale_score"] = _format_number(subscale.score)
        evidence["subscale_score_rounded"] = str(_rounded(subscale.score))
    if subscale.t_score is not None:
        evidence["subscale_t_score"] = _format_number(subscale.t_score)
    if subscale.band is not None:
        evidence["subscale_band"] = subscale.band
    if subscale.prorated:
        evidence["subscale_prorated"] = "true"
    return evidence


def _incomplete_evidence(score: ScoreResult) -> dict[str, str]:
    """Evidence of an unscorable or invalid form: what was answered and what is missing.

    Only values the scorer computed are reported: the number of answered items, the ids of
    the missing ones, and the score (prorated, where the instrument's missing-data rule allows
    it) of every subscale that could still be scored. No total is invented for the form.
    """
    evidence = _score_evidence(score)
    evidence["answered_count"] = str(score.answered)
    evidence["missing_count"] = str(len(score.missing))
    evidence["missing_items"] = ",".join(score.missing)
    scored = [s for s in score.subscales if s.status == "scored" and s.score is not None]
    if scored:
        evidence["scored_subscales"] = ",".join(
            f"{s.subscale_id}={_format_number(s.score)}{'(prorated)' if s.prorated else ''}"
            for s in scored
            if s.score is not None
        )
    return evidence


def _instrument_selected(cond: Condition, instrument_id: str) -> bool:
    if cond.instruments is not None:
        return instrument_id in cond.instruments
    if cond.except_instruments is not None:
        return instrument_id not in cond.except_instruments
    return True


def _matches(
    cond: Condition, scores: Sequence[ScoreResult], observations: Sequence[Observation]
) -> Iterator[dict[str, str]]:
    """Yield the evidence of every match of ``cond`` (one per flag, score or observation)."""
    if cond.observation_severity is not None:
        for observation in observations:
            if observation.severity == cond.observation_severity:
                yield {
                    "observation_kind": observation.kind,
                    "observation_severity": observation.severity,
                }
        return
    for score in scores:
        if not _instrument_selected(cond, score.instrument_id):
            continue
        if cond.flag is not None or cond.flag_severity is not None:
            # A critical flag fires whatever the status: scored, prorated or unscorable.
            for flag in score.flags:
                if cond.flag is not None and flag.code != cond.flag:
                    continue
                if cond.flag_severity is not None and flag.severity != cond.flag_severity:
                    continue
                if cond.except_flags is not None and flag.code in cond.except_flags:
                    continue
                yield _flag_evidence(score, flag)
        elif cond.total_at_least is not None or cond.total_at_most is not None:
            if score.total is None:
                continue
            rounded = _rounded(score.total)
            if cond.total_at_least is not None and rounded < cond.total_at_least:
                continue
            if cond.total_at_most is not None and rounded > cond.total_at_most:
                continue
            yield _score_evidence(score)
        elif cond.highest_band:
            if score.highest_band and score.band is not None:
                yield _score_evidence(score)
        elif cond.positive:
            if score.positive is True:
                yield _score_evidence(score)
        elif cond.subscale_positive:
            # Subscales of a voided form carry no result; the status rules cover that form.
            for subscale in score.subscales:
                if subscale.positive is True and subscale.status == "scored":
                    yield _subscale_evidence(score, subscale)
        elif cond.status is not None and score.status == cond.status:
            yield _incomplete_evidence(score)


def _check_inputs(
    scores: Sequence[ScoreResult],
    observations: Sequence[Observation],
    open_case_tier: Tier | None,
) -> None:
    for index, score in enumerate(scores):
        if not isinstance(score, ScoreResult):
            raise ValueError(f"scores[{index}] must be a ScoreResult, got {type(score).__name__}")
        if score.total is not None and not math.isfinite(score.total):
            raise ValueError(
                f"scores[{index}] ({score.instrument_id}) has a non-finite total {score.total!r}"
            )
    for index, observation in enumerate(observations):
        if not isinstance(observation, Observation):
            raise ValueError(
                f"observations[{index}] must be an Observation, got {type(observation).__name__}"
            )
    if open_case_tier is not None and open_case_tier not in TIER_ORDER:
        raise ValueError(
            f"open_case_tier must be one of {sorted(TIER_ORDER)} or None, got {open_case_tier!r}"
        )


def evaluate(
    scores: Sequence[ScoreResult],
    *,
    policy: Policy,
    observations: Sequence[Observation] = (),
    open_case_tier: Tier | None = None,
) -> TriageResult:
    """Place one screening session in a risk tier, with every reason that produced it.

    Parameters
    ----------
    scores : sequence of ScoreResult
        The scored instruments of the session (any status: a critical flag on an unscorable
        form still fires).
    policy : Policy
        The policy to apply (see :func:`~triage.load_policy`).
    observations : sequence of Observation
        Staff observations to take into account.
    open_case_tier : Tier or None
        Tier of the student's open case, if any. A lower result never lowers it: the result
        keeps the open case's tier and carries an ``open_case_tier_kept`` reason.

    Returns
    -------
    TriageResult
        ``tier`` is the highest tier of any fired rule (``green`` when none fired);
        ``pathway`` is the pathway of the first fired rule of that tier in policy order
        (``None`` for green); ``reasons`` holds one reason per match of every fired rule,
        sorted by tier, highest first, then by policy order.

    Raises
    ------
    ValueError
        If an input is not of the expected type, a total is not finite, or
        ``open_case_tier`` is not a tier.
    """
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must be a Policy, got {type(policy).__name__}")
    # Materialise once: every rule walks the inputs again (a generator would run dry).
    scores = tuple(scores)
    observations = tuple(observations)
    _check_inputs(scores, observations, open_case_tier)

    fired: list[tuple[int, int, Rule, dict[str, str]]] = []
    for order, rule in enumerate(policy.rules):
        for evidence in _matches(rule.condition, scores, observations):
            fired.append((-TIER_ORDER[rule.tier], order, rule, evidence))
    fired.sort(key=lambda entry: (entry[0], entry[1]))
    reasons = [
        Reason(
            rule_id=rule.id,
            tier=rule.tier,
            pathway=rule.pathway,
            evidence=evidence,
            text=dict(rule.text),
        )
        for _, _, rule, evidence in fired
    ]

    tier: Tier = reasons[0].tier if reasons else "green"
    pathway: str | None = reasons[0].pathway if reasons else None

    if open_case_tier is not None and TIER_ORDER[open_case_tier] > TIER_ORDER[tier]:
        kept = Reason(
            rule_id=OPEN_CASE_RULE_ID,
            tier=open_case_tier,
            pathway=OPEN_CASE_PATHWAY,
            evidence={"open_case_tier": open_case_tier, "computed_tier": tier},
            text=dict(policy.open_case_text),
        )
        reasons.insert(0, kept)
        tier = open_case_tier
        pathway = OPEN_CASE_PATHWAY

    return TriageResult(
        tier=tier, pathway=pathway, reasons=tuple(reasons), policy_version=policy.version
    )
