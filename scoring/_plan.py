"""A scoring plan: an instrument's scoring spec compiled into plain lookup tables.

The scalar scorer (:func:`scoring.score`) walks these tables for one answer set. They are
chosen so that a vectorised scorer over an answer matrix (one column per item in
``item_ids`` order, ``-1`` for unanswered) can be built on the same plan later:

* ``value_sets`` - allowed values per item (validation by a lookup table);
* ``reverse`` - the constant ``min + max`` per reverse-keyed item (keyed = constant - raw);
* each :class:`ScalePlan` - item columns, the missing-data rule, and band/cut-off bounds as
  integers in units of ``10**-decimals`` (compared with the exact half-up rounded score,
  :func:`scoring._rounding.round_half_up_scaled`; ``np.searchsorted`` fits them directly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from instruments import (
    Classification,
    CompleteRule,
    FlagRule,
    Instrument,
    MissingRule,
    PositiveRule,
    ProrateRule,
    Scale,
)

RuleKind = Literal["complete", "prorate", "zero_fill"]


def _scaled(value: float, decimals: int) -> Fraction:
    """``value`` (the decimal it is written as) times ``10**decimals``, exactly."""
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    unit: int = 10**decimals
    return exact * unit


@dataclass(frozen=True, slots=True)
class ScalePlan:
    """One total or subscale, compiled."""

    id: str
    items: tuple[str, ...]
    mean: bool
    rule: RuleKind
    max_missing: int
    decimals: int
    bands: tuple[tuple[int, int, str], ...]
    cutoff: tuple[int | None, int | None] | None

    @classmethod
    def compile(cls, scale: Scale) -> ScalePlan:
        d = scale.decimals
        bands = tuple((int(_scaled(b.min, d)), int(_scaled(b.max, d)), b.code) for b in scale.bands)
        cutoff = None
        if scale.cutoff is not None:
            cutoff = (
                scaled_lower(scale.cutoff.min, d),
                scaled_upper(scale.cutoff.max, d),
            )
        return cls(
            id=scale.id,
            items=scale.items,
            mean=scale.method == "mean",
            rule=_rule_kind(scale.missing),
            max_missing=0 if isinstance(scale.missing, CompleteRule) else scale.missing.max_missing,
            decimals=d,
            bands=bands,
            cutoff=cutoff,
        )

    def band_of(self, rounded: int) -> str | None:
        """The band whose ``[min, max]`` holds the rounded score (``None`` without bands)."""
        for low, high, code in self.bands:
            if low <= rounded <= high:
                return code
        return None

    @property
    def highest_band(self) -> str | None:
        """The most severe band (bands are declared from least to most severe)."""
        return self.bands[-1][2] if self.bands else None


def _rule_kind(rule: MissingRule) -> RuleKind:
    if isinstance(rule, CompleteRule):
        return "complete"
    if isinstance(rule, ProrateRule):
        return "prorate"
    return "zero_fill"


def scaled_lower(bound: float | None, decimals: int) -> int | None:
    """Smallest rounded score (in units of ``10**-decimals``) that is ``>= bound``."""
    return None if bound is None else math.ceil(_scaled(bound, decimals))


def scaled_upper(bound: float | None, decimals: int) -> int | None:
    """Largest rounded score (in units of ``10**-decimals``) that is ``<= bound``."""
    return None if bound is None else math.floor(_scaled(bound, decimals))


@dataclass(frozen=True, slots=True)
class Plan:
    """An instrument's scoring spec, compiled (see the module docstring)."""

    instrument_id: str
    instrument_version: str
    item_ids: tuple[str, ...]
    value_sets: dict[str, frozenset[int]]
    allowed_text: dict[str, str]
    scored: tuple[str, ...]
    reverse: dict[str, int]
    total: ScalePlan | None
    subscales: tuple[ScalePlan, ...]
    classification: Classification | None
    positive_bands: frozenset[str]
    positive_rule: PositiveRule | None
    flags: tuple[FlagRule, ...]

    @property
    def scales(self) -> tuple[ScalePlan, ...]:
        """The total (if any) followed by the subscales."""
        return ((self.total,) if self.total is not None else ()) + self.subscales

    @property
    def highest_band(self) -> str | None:
        """The most severe band of the result's band scheme."""
        if self.classification is not None:
            return self.classification.bands[-1].code
        return self.total.highest_band if self.total is not None else None


def compile_plan(instrument: Instrument) -> Plan:
    """Compile ``instrument``'s scoring spec; the result is cached per instrument object."""
    cached = _CACHE.get(id(instrument))
    if cached is not None and cached[0] is instrument:
        return cached[1]
    spec = instrument.scoring
    items = {item.id: item for item in instrument.items}
    classification = spec.classification
    plan = Plan(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        item_ids=tuple(items),
        value_sets={i: frozenset(item.values) for i, item in items.items()},
        allowed_text={
            i: ", ".join(str(v) for v in sorted(item.values)) for i, item in items.items()
        },
        scored=spec.scored_items,
        reverse={i: items[i].min_value + items[i].max_value for i in spec.reverse_items},
        total=ScalePlan.compile(spec.total) if spec.total is not None else None,
        subscales=tuple(ScalePlan.compile(s) for s in spec.subscales),
        classification=classification,
        positive_bands=frozenset(b.code for b in classification.bands if b.positive)
        if classification is not None
        else frozenset(),
        positive_rule=spec.positive,
        flags=spec.flags,
    )
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(instrument)] = (instrument, plan)
    return plan


_CACHE_LIMIT = 256
_CACHE: dict[int, tuple[Instrument, Plan]] = {}
