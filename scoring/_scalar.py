"""The scalar scorer: one answer set in, one :class:`ScoreResult` out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from instruments import Instrument

from ._conditions import Context, holds
from ._context import ScoreContext, check_context
from ._errors import AnswerError, ContextError
from ._plan import Plan, ScalePlan, compile_plan
from ._result import Flag, ScoreResult, ScoreStatus, SubscaleResult
from ._rounding import round_half_up_scaled

Student = tuple[int | None, str | None]


@dataclass(frozen=True, slots=True)
class _ScaleOutcome:
    status: ScoreStatus
    numerator: int = 0
    denominator: int = 1
    rounded: int | None = None
    band: str | None = None
    positive: bool | None = None
    prorated: bool = False
    t: Fraction | None = None

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.status == "scored" else None

    @property
    def t_value(self) -> float | None:
        return float(self.t) if self.t is not None else None


def score(
    instrument: Instrument,
    answers: Mapping[str, int | None],
    *,
    context: ScoreContext | None = None,
) -> ScoreResult:
    """Score one answer set against an instrument's scoring spec.

    Parameters
    ----------
    instrument : Instrument
        A loaded definition (``instruments.load_definition`` / the catalogue).
    answers : Mapping[str, int | None]
        Raw option values keyed by item id. A missing key or ``None`` is unanswered.
    context : ScoreContext, optional
        The student's grade and gender. Required when a scale of the instrument has
        ``norms`` (T-scores); ignored otherwise.

    Returns
    -------
    ScoreResult
        ``total`` unrounded; ``band``, ``positive`` and ``highest_band`` decided on the total
        rounded half up (on the rounded T-score for a normed total); critical-item ``flags``
        whatever the status.

    Raises
    ------
    AnswerError
        An unknown item id, or a value that is not one of the item's option values (bools,
        floats and strings included); nothing is clamped or coerced.
    ContextError
        The instrument needs norms and ``context`` is missing, or the context is malformed.

    Notes
    -----
    For a scale of :math:`n` items with :math:`k` answered (keyed) values :math:`x_i`, the
    score is, by the scale's missing-data rule:

    * ``complete``: :math:`\\sum x_i` if :math:`k = n`, else unscorable;
    * ``prorate`` (at most :math:`m` missing): :math:`\\frac{n}{k} \\sum x_i`, the answered
      mean standing in for each missing item (Arrieta et al. 2017, J Clin Psychol,
      doi:10.1002/jclp.22390, for the PHQ-9), else unscorable;
    * ``zero_fill`` (at most :math:`m` blanks on the scale or the form): blanks count 0, else
      invalid (PSC-17 rule, Gardner et al. 1999).

    A ``mean`` scale divides by :math:`k` (prorate) or :math:`n` (zero fill) instead. A
    reverse-keyed item contributes :math:`\\min + \\max - x`. A composite scale is the
    exact sum of its parts. Bands and cut-offs compare
    :math:`\\lfloor s \\cdot 10^d + \\tfrac12 \\rfloor` with the declared bounds, computed
    exactly (:func:`scoring._rounding.round_half_up_scaled`). A normed scale's T-score is
    :math:`T = 10 (s - \\mu_g) / \\sigma_g + 50` on the unrounded score :math:`s`. A validity
    rule that holds voids every score (status ``invalid``). PHQ-9 bands: Kroenke, Spitzer &
    Williams 2001, J Gen Intern Med 16:606; GAD-7 bands: Spitzer et al. 2006, Arch Intern Med
    166:1092; ASQ rules: NIMH ASQ Toolkit.
    """
    plan = compile_plan(instrument)
    given = _validated(plan, answers)
    student = _student(plan, context)
    keyed = {
        item: plan.reverse[item] - value if item in plan.reverse else value
        for item, value in given.items()
    }
    form_missing = sum(1 for item in plan.scored if item not in given)
    outcomes: dict[str, _ScaleOutcome] = {}
    for scale in plan.item_scales:
        outcomes[scale.id] = _score_scale(scale, keyed, form_missing)
    for scale in plan.composite_scales:
        outcomes[scale.id] = _combine(scale, outcomes)
    outcomes = {scale.id: _judge(scale, outcomes[scale.id], student) for scale in plan.scales}
    decimals = {scale.id: scale.decimals for scale in plan.scales}
    ctx = Context(
        answers=given,
        rounded={k: o.rounded for k, o in outcomes.items() if o.rounded is not None},
        decimals=decimals,
    )
    invalid = any(holds(rule.when, ctx) for rule in plan.validity)
    if invalid:
        outcomes = {k: _ScaleOutcome(status="invalid") for k in outcomes}
        ctx = Context(answers=given, rounded={}, decimals=decimals)
    total = outcomes[plan.total.id] if plan.total is not None else None
    status: ScoreStatus = "invalid" if invalid else total.status if total is not None else "scored"

    band: str | None
    if invalid:
        band = None
    elif plan.classification is not None:
        band = next(
            (rule.band for rule in plan.classification.rules if holds(rule.when, ctx)),
            plan.classification.default,
        )
    else:
        band = total.band if total is not None else None
    ctx = Context(answers=given, rounded=ctx.rounded, decimals=decimals, band=band)

    positive: bool | None
    if status != "scored":
        positive = None
    elif plan.positive_rule is not None:
        positive = holds(plan.positive_rule.when, ctx)
    elif plan.classification is not None:
        positive = band in plan.positive_bands
    else:
        positive = total.positive if total is not None else None

    flags = tuple(
        Flag(code=rule.code, severity=rule.severity, item_id=rule.item)
        for rule in plan.flags
        if holds(rule.when, ctx)
    )
    missing = tuple(item for item in plan.scored if item not in given)
    return ScoreResult(
        instrument_id=plan.instrument_id,
        instrument_version=plan.instrument_version,
        status=status,
        total=total.value if total is not None else None,
        band=band,
        prorated=total.prorated if total is not None else False,
        answered=len(plan.scored) - len(missing),
        missing=missing,
        subscales=tuple(
            SubscaleResult(
                subscale_id=scale.id,
                status=outcomes[scale.id].status,
                score=outcomes[scale.id].value,
                prorated=outcomes[scale.id].prorated,
                band=outcomes[scale.id].band,
                positive=outcomes[scale.id].positive,
                t_score=outcomes[scale.id].t_value,
            )
            for scale in plan.subscales
        ),
        flags=flags,
        positive=positive,
        highest_band=band is not None and band == plan.highest_band,
        t_score=total.t_value if total is not None else None,
    )


def _student(plan: Plan, context: object) -> Student | None:
    """The (grade, gender) the norms need; ``None`` when the instrument has no norms."""
    checked = check_context(context) if context is not None else None
    if not plan.needs_norms:
        return None
    if checked is None:
        raise ContextError(
            f"{plan.instrument_id}: this definition converts raw scores to T-scores from norms "
            "by grade and gender; pass context=ScoreContext(grade=..., gender=...)"
        )
    return checked.grade, checked.gender


def _score_scale(scale: ScalePlan, keyed: Mapping[str, int], form_missing: int) -> _ScaleOutcome:
    """Apply an item scale's missing-data rule (see :func:`score`); no rounding yet."""
    values = [keyed[item] for item in scale.items if item in keyed]
    n, k = len(scale.items), len(values)
    missing = n - k
    total = sum(values)
    if scale.rule == "complete":
        if missing:
            return _ScaleOutcome(status="unscorable")
        numerator, denominator = (total, n) if scale.mean else (total, 1)
    elif scale.rule == "prorate":
        if missing > scale.max_missing:
            return _ScaleOutcome(status="unscorable")
        numerator, denominator = (total, k) if scale.mean else (total * n, k)
    else:
        blanks = form_missing if scale.blanks_in_form else missing
        if blanks > scale.max_missing:
            return _ScaleOutcome(status="invalid")
        numerator, denominator = (total, n) if scale.mean else (total, 1)
    return _ScaleOutcome(
        status="scored",
        numerator=numerator,
        denominator=denominator,
        prorated=scale.rule == "prorate" and missing > 0,
    )


def _combine(scale: ScalePlan, outcomes: Mapping[str, _ScaleOutcome]) -> _ScaleOutcome:
    """A composite: the exact sum of its parts; invalid/unscorable when a part is."""
    parts = [outcomes[part] for part in scale.parts]
    if any(part.status == "invalid" for part in parts):
        return _ScaleOutcome(status="invalid")
    if any(part.status != "scored" for part in parts):
        return _ScaleOutcome(status="unscorable")
    value = sum((Fraction(p.numerator, p.denominator) for p in parts), Fraction(0))
    return _ScaleOutcome(
        status="scored",
        numerator=value.numerator,
        denominator=value.denominator,
        prorated=any(part.prorated for part in parts),
    )


def _judge(scale: ScalePlan, outcome: _ScaleOutcome, student: Student | None) -> _ScaleOutcome:
    """Round half up, then band and cut the raw score, or the T-score for a normed scale."""
    if outcome.status != "scored":
        return outcome
    rounded = round_half_up_scaled(outcome.numerator, outcome.denominator, scale.decimals)
    norms = scale.norms
    if norms is None:
        positive = None
        if scale.cutoff is not None:
            low, high = scale.cutoff
            positive = (low is None or rounded >= low) and (high is None or rounded <= high)
        return dataclasses.replace(
            outcome, rounded=rounded, band=scale.band_of(rounded), positive=positive
        )
    group = -1 if student is None else norms.group_of(*student)
    if group < 0:
        return dataclasses.replace(outcome, rounded=rounded)
    t = norms.t_score(Fraction(outcome.numerator, outcome.denominator), group)
    _, band, positive = norms.judge(t)
    return dataclasses.replace(outcome, rounded=rounded, band=band, positive=positive, t=t)


def _validated(plan: Plan, answers: Mapping[str, int | None]) -> dict[str, int]:
    """The answered items with their raw values; raises AnswerError on anything else."""
    if not isinstance(answers, Mapping):
        raise AnswerError(
            plan.instrument_id,
            None,
            f"{plan.instrument_id}: answers must be a mapping of item id to value, "
            f"got {type(answers).__name__}",
        )
    given: dict[str, int] = {}
    for item_id, value in answers.items():
        _check_answer(plan, item_id, value)
        if value is not None:
            given[item_id] = value
    return given


def _check_answer(plan: Plan, item_id: object, value: object) -> None:
    if not isinstance(item_id, str) or item_id not in plan.value_sets:
        raise AnswerError(
            plan.instrument_id,
            str(item_id),
            f"{plan.instrument_id}: unknown item {item_id!r}; "
            f"the items are {', '.join(plan.item_ids)}",
        )
    if value is None:
        return
    allowed = plan.value_sets[item_id]
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise AnswerError(
            plan.instrument_id,
            item_id,
            f"{plan.instrument_id}: item {item_id!r}: {value!r} ({type(value).__name__}) is not "
            f"an allowed answer; allowed values: {plan.allowed_text[item_id]} "
            f"(or None for unanswered)",
        )


def answers_from_list(
    instrument: Instrument, values: Sequence[int | None]
) -> dict[str, int | None]:
    """Key a list of answers, one per item in form order (unscored items included).

    Parameters
    ----------
    instrument : Instrument
        The instrument whose item order applies.
    values : Sequence[int | None]
        Exactly one value (or ``None``) per item, in ``instrument.items`` order.

    Returns
    -------
    dict[str, int | None]
        ``{item_id: value}`` for every item, ready for :func:`score`.

    Raises
    ------
    AnswerError
        The length differs from the number of items (``item_id`` is ``None``), or a value is
        not allowed for its item.
    """
    plan = compile_plan(instrument)
    if isinstance(values, str | bytes) or len(values) != len(plan.item_ids):
        given = "a string" if isinstance(values, str | bytes) else f"{len(values)} values"
        raise AnswerError(
            plan.instrument_id,
            None,
            f"{plan.instrument_id}: expected {len(plan.item_ids)} values, one per item "
            f"({', '.join(plan.item_ids)}), got {given}",
        )
    for item_id, value in zip(plan.item_ids, values, strict=True):
        _check_answer(plan, item_id, value)
    return dict(zip(plan.item_ids, values, strict=True))
