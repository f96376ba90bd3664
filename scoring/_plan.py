"""A scoring plan: an instrument's scoring spec compiled into plain lookup tables.

The scalar scorer (:func:`scoring.score`) walks these tables for one answer set; the batch
scorer (:func:`scoring.score_batch`) applies the same tables to an answer matrix (one column per
item in ``item_ids`` order):

* ``value_sets`` - allowed values per item (validation by a lookup table);
* ``reverse`` - the constant ``min + max`` per reverse-keyed item (keyed = constant - raw);
* each :class:`ScalePlan` - item columns (or, for a composite, its part scales), the
  missing-data rule, and band/cut-off bounds as integers in units of ``10**-decimals``
  (compared with the exact half-up rounded score,
  :func:`scoring._rounding.round_half_up_scaled`);
* each :class:`NormPlan` - the norm groups as exact fractions and the T-score bands.
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
    Norms,
    PositiveRule,
    ProrateRule,
    Scale,
    ValidityRule,
    ZeroFillRule,
)

from ._rounding import round_half_up_scaled

RuleKind = Literal["complete", "prorate", "zero_fill", "composite"]
Gender = Literal["male", "female"]


def exact(value: float) -> Fraction:
    """The decimal ``value`` is written as (``0.1`` is one tenth), as an exact fraction."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _scaled(value: float, decimals: int) -> Fraction:
    """``value`` (the decimal it is written as) times ``10**decimals``, exactly."""
    unit: int = 10**decimals
    return exact(value) * unit


def scaled_lower(bound: float | None, decimals: int) -> int | None:
    """Smallest rounded score (in units of ``10**-decimals``) that is ``>= bound``."""
    return None if bound is None else math.ceil(_scaled(bound, decimals))


def scaled_upper(bound: float | None, decimals: int) -> int | None:
    """Largest rounded score (in units of ``10**-decimals``) that is ``<= bound``."""
    return None if bound is None else math.floor(_scaled(bound, decimals))


def in_bounds(rounded: int, low: int | None, high: int | None) -> bool:
    """``low <= rounded <= high`` with ``None`` as an open bound."""
    return (low is None or rounded >= low) and (high is None or rounded <= high)


@dataclass(frozen=True, slots=True)
class NormGroupPlan:
    """One norm row: grade range, gender and the exact mean and SD."""

    low_grade: int
    high_grade: int
    gender: Gender
    mean: Fraction
    sd: Fraction

    def matches(self, grade: int | None, gender: str | None) -> bool:
        """True when the student's grade and gender fall in this group."""
        return (
            grade is not None
            and gender == self.gender
            and self.low_grade <= grade <= self.high_grade
        )


@dataclass(frozen=True, slots=True)
class NormPlan:
    """A scale's norms, compiled: groups, T-score bands and cut-off in units of 10**-decimals."""

    groups: tuple[NormGroupPlan, ...]
    decimals: int
    bands: tuple[tuple[int | None, int | None, str], ...]
    cutoff: tuple[int | None, int | None] | None

    @classmethod
    def compile(cls, norms: Norms) -> NormPlan:
        d = norms.decimals
        cutoff = None
        if norms.cutoff is not None:
            cutoff = (scaled_lower(norms.cutoff.min, d), scaled_upper(norms.cutoff.max, d))
        return cls(
            groups=tuple(
                NormGroupPlan(g.grades[0], g.grades[1], g.gender, exact(g.mean), exact(g.sd))
                for g in norms.groups
            ),
            decimals=d,
            bands=tuple(
                (
                    None if b.min is None else int(_scaled(b.min, d)),
                    None if b.max is None else int(_scaled(b.max, d)),
                    b.code,
                )
                for b in norms.bands
            ),
            cutoff=cutoff,
        )

    def group_of(self, grade: int | None, gender: str | None) -> int:
        """Index of the group matching the student, ``-1`` when none does."""
        for index, group in enumerate(self.groups):
            if group.matches(grade, gender):
                return index
        return -1

    def t_score(self, raw: Fraction, group: int) -> Fraction:
        """The exact T-score of ``raw`` in norm group ``group``.

        .. math:: T = \\frac{x - \\mu_g}{\\sigma_g} \\cdot 10 + 50

        (RCADS scoring workbook formula; Chorpita, Yim, Moffitt, Umemoto & Francis 2000,
        Behav Res Ther 38:835, for the RCADS itself.)
        """
        row = self.groups[group]
        return (raw - row.mean) / row.sd * 10 + 50

    def judge(self, t: Fraction) -> tuple[int, str | None, bool | None]:
        """``(rounded T, band, positive)`` for an exact T-score."""
        rounded = round_half_up_scaled(t.numerator, t.denominator, self.decimals)
        band = next((code for lo, hi, code in self.bands if in_bounds(rounded, lo, hi)), None)
        positive = None if self.cutoff is None else in_bounds(rounded, *self.cutoff)
        return rounded, band, positive


@dataclass(frozen=True, slots=True)
class ScalePlan:
    """One total or subscale, compiled."""

    id: str
    items: tuple[str, ...]
    parts: tuple[str, ...]
    mean: bool
    rule: RuleKind
    max_missing: int
    blanks_in_form: bool
    decimals: int
    bands: tuple[tuple[int, int, str], ...]
    cutoff: tuple[int | None, int | None] | None
    norms: NormPlan | None

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
        missing = scale.missing
        return cls(
            id=scale.id,
            items=scale.items,
            parts=scale.scales,
            mean=scale.method == "mean",
            rule=_rule_kind(missing),
            max_missing=0 if missing is None or isinstance(missing, CompleteRule)
            else missing.max_missing,
            blanks_in_form=isinstance(missing, ZeroFillRule) and missing.blanks_in == "form",
            decimals=d,
            bands=bands,
            cutoff=cutoff,
            norms=NormPlan.compile(scale.norms) if scale.norms is not None else None,
        )  # fmt: skip

    def band_of(self, rounded: int) -> str | None:
        """The raw band whose ``[min, max]`` holds the rounded score (``None`` without bands)."""
        for low, high, code in self.bands:
            if low <= rounded <= high:
                return code
        return None

    @property
    def band_codes(self) -> tuple[str, ...]:
        """The codes of the bands this scale reports (the norms' bands when it has norms)."""
        if self.norms is not None:
            return tuple(code for _, _, code in self.norms.bands)
        return tuple(code for _, _, code in self.bands)

    @property
    def highest_band(self) -> str | None:
        """The most severe band (bands are declared from least to most severe)."""
        codes = self.band_codes
        return codes[-1] if codes else None


def _rule_kind(rule: MissingRule | None) -> RuleKind:
    if rule is None:
        return "composite"
    if isinstance(rule, CompleteRule):
        return "complete"
    if isinstance(rule, ProrateRule):
        return "prorate"
    return "zero_fill"


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
    validity: tuple[ValidityRule, ...]

    @property
    def scales(self) -> tuple[ScalePlan, ...]:
        """The total (if any) followed by the subscales."""
        return ((self.total,) if self.total is not None else ()) + self.subscales

    @property
    def item_scales(self) -> tuple[ScalePlan, ...]:
        """The scales summed from items, in declaration order."""
        return tuple(s for s in self.scales if not s.parts)

    @property
    def composite_scales(self) -> tuple[ScalePlan, ...]:
        """The scales summed from other scales, in declaration order."""
        return tuple(s for s in self.scales if s.parts)

    @property
    def needs_norms(self) -> bool:
        """True when some scale converts raw scores to T-scores (a context is needed)."""
        return any(s.norms is not None for s in self.scales)

    @property
    def band_codes(self) -> tuple[str, ...]:
        """The result's band scheme, least to most severe."""
        if self.classification is not None:
            return tuple(b.code for b in self.classification.bands)
        return self.total.band_codes if self.total is not None else ()

    @property
    def highest_band(self) -> str | None:
        """The most severe band of the result's band scheme."""
        codes = self.band_codes
        return codes[-1] if codes else None


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
        validity=spec.validity,
    )
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(instrument)] = (instrument, plan)
    return plan


_CACHE_LIMIT = 256
_CACHE: dict[int, tuple[Instrument, Plan]] = {}
