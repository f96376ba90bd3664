"""The scoring specification: what the scorer computes, declared as data.

A definition's ``scoring`` object is decoded into :class:`ScoringSpec`. It is deliberately
general so that later instruments are new data, not new code:

* ``scored_items`` - the items whose answers count (``answered``/``missing`` in results);
* ``reverse_items`` - items keyed in reverse, scored ``min + max - value`` (e.g. CES-DC);
* ``total`` and ``subscales`` - :class:`Scale` objects: a sum or mean over items, a missing-data
  rule, a declared range, contiguous bands and an optional screening cut-off;
* ``classification`` - rule-based bands for instruments with no total (ASQ);
* ``positive`` - an OR/AND rule that replaces the total cut-off (e.g. SCL-90 Chinese norms);
* ``flags`` - critical-item rules evaluated whatever the total;
* ``validity`` - rules that void the whole form (e.g. a lie scale over its limit, MHT);
* ``coding`` - the named coding scheme of the option values (e.g. K10 Australian 1-5).

A scale is either a sum/mean over ``items`` or a *composite*: the sum of other scales
(``scales``), unscorable when any part is (RCADS total anxiety, SDQ total difficulties). A scale
may carry ``norms``: raw scores become T-scores by grade and gender,
:math:`T = 10 (x - \\mu_g) / \\sigma_g + 50`, and its bands and cut-off apply to the T-score.

Conditions are a small tagged union (``op``) over answers, scale scores and the band.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Severity = Literal["acute", "critical", "follow_up"]
"""Flag severity; the same literal as ``scoring.FlagSeverity``."""


# --------------------------------------------------------------------------- conditions


class AnswerIs(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="answer"
):
    """True when ``item`` is answered with one of ``values`` (raw option values)."""

    item: str
    values: tuple[int, ...]


class Unanswered(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="unanswered"
):
    """True when ``item`` has no answer (missing key or ``None``)."""

    item: str


class AnyOf(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="any"):
    """True when at least one condition in ``of`` is true (logical OR)."""

    of: tuple[Condition, ...]


class AllOf(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="all"):
    """True when every condition in ``of`` is true (logical AND)."""

    of: tuple[Condition, ...]


class Not(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="not"):
    """Negation of ``of``."""

    of: Condition


class ScoreIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="score"):
    """True when scale ``scale`` is scorable and its rounded score lies in ``[min, max]``.

    An omitted bound is open. The score is rounded half up to the scale's ``decimals``.
    """

    scale: str
    min: int | float | None = None
    max: int | float | None = None


class CountIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="count"):
    """True when the number of ``items`` answered with one of ``values`` lies in ``[min, max]``.

    ``values`` are raw option values (before reverse keying). ``max`` omitted is open.
    """

    items: tuple[str, ...]
    values: tuple[int, ...]
    min: int = 1
    max: int | None = None


class BandIs(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="op", tag="band"):
    """True when the result's band is one of ``bands`` (usable in flags and ``positive``)."""

    bands: tuple[str, ...]


Condition = AnswerIs | Unanswered | AnyOf | AllOf | Not | ScoreIn | CountIn | BandIs
"""Any condition; decoded by its ``op`` tag."""


# --------------------------------------------------------------------------- missing data


class CompleteRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="rule", tag="complete"
):
    """Any missing item makes the scale ``unscorable``."""

    source: str


class ProrateRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="rule", tag="prorate"
):
    """Up to ``max_missing`` missing items: the missing items take the mean of the answered ones.

    A sum scale becomes ``mean(answered) * n_items``; a mean scale is the mean of the answered
    items. More missing items make the scale ``unscorable``.
    """

    max_missing: int
    source: str


class ZeroFillRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="rule", tag="zero_fill"
):
    """Blank items count 0 (after keying); more than ``max_missing`` blanks make it ``invalid``.

    ``blanks_in`` says where blanks are counted: ``"scale"`` (the scale's own items) or
    ``"form"`` (all scored items; PSC-17: 4 or more blanks on the form void every subscale).
    """

    max_missing: int
    source: str
    blanks_in: Literal["scale", "form"] = "scale"


MissingRule = CompleteRule | ProrateRule | ZeroFillRule
"""A scale's missing-data rule; decoded by its ``rule`` tag."""


# --------------------------------------------------------------------------- scales


class Band(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A severity band ``[min, max]`` (inclusive) on the rounded scale score."""

    code: str
    min: int | float
    max: int | float
    source: str


class Cutoff(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Screening cut-off: positive when the rounded score lies in ``[min, max]``."""

    source: str
    min: int | float | None = None
    max: int | float | None = None


class NormGroup(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Normative mean and standard deviation of one grade band and gender.

    ``grades`` is the inclusive school-grade range ``[low, high]``; ``mean`` and ``sd`` are
    written as decimals with at most 4 places and are used exactly.
    """

    grades: tuple[int, int]
    gender: Literal["male", "female"]
    mean: int | float
    sd: int | float


class NormBand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A band ``[min, max]`` on the rounded T-score; the outermost bands are open-ended."""

    code: str
    source: str
    min: int | float | None = None
    max: int | float | None = None


class Norms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """T-scores from a norm table by grade band and gender.

    .. math:: T = \\frac{x - \\mu_g}{\\sigma_g} \\cdot 10 + 50

    with :math:`x` the unrounded (possibly prorated) raw score and :math:`(\\mu_g, \\sigma_g)`
    the row of ``groups`` that matches the student's grade and gender (e.g. the RCADS scoring
    workbook, Chorpita et al.). ``bands`` (least to most severe, covering every T-score) and
    ``cutoff`` are decided on :math:`T` rounded half up to ``decimals`` places; they replace the
    raw scale's bands and cut-off. A student with no matching group gets no T-score, band or
    ``positive`` on this scale.
    """

    source: str
    groups: tuple[NormGroup, ...]
    bands: tuple[NormBand, ...] = ()
    cutoff: Cutoff | None = None
    decimals: int = 0


class Scale(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A total or subscale.

    Either an item scale (``items`` with a ``missing`` rule, scored as a ``sum`` or ``mean``)
    or a composite (``scales``: the sum of those scales' unrounded scores; ``invalid`` when a
    part is invalid, else ``unscorable`` when a part is unscorable; prorated when a part is).

    ``bands`` run from the least to the most severe (ascending ranges for "higher is worse",
    descending for "lower is worse", e.g. WHO-5); together they cover ``range`` exactly at the
    resolution ``10**-decimals``. Bands and cut-offs are decided on the score rounded half up
    to ``decimals`` places; the reported score is unrounded. With ``norms`` the bands and the
    cut-off are those of the norms, on the T-score.
    """

    id: str
    range: tuple[int | float, int | float]
    items: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    missing: MissingRule | None = None
    method: Literal["sum", "mean"] = "sum"
    decimals: int = 0
    bands: tuple[Band, ...] = ()
    cutoff: Cutoff | None = None
    norms: Norms | None = None


# --------------------------------------------------------------------------- rule-based bands


class RuleBand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A band of a rule-based classification; ``positive`` says whether it screens positive."""

    code: str
    positive: bool


class ClassRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Assign ``band`` when ``when`` holds; rules are tried in order, the first match wins."""

    band: str
    when: Condition
    source: str


class Classification(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Rule-based bands for instruments without a total (e.g. ASQ).

    ``bands`` run from the least to the most severe; ``default`` applies when no rule matches.
    """

    bands: tuple[RuleBand, ...]
    rules: tuple[ClassRule, ...]
    default: str
    source: str


# --------------------------------------------------------------------------- flags and result


class FlagRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A critical-item flag, raised when ``when`` holds, whatever the total or status."""

    code: str
    severity: Severity
    when: Condition
    source: str
    item: str | None = None


class PositiveRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A screen-positive rule that replaces the total's cut-off (e.g. OR-rules)."""

    when: Condition
    source: str


class ValidityRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When ``when`` holds the whole form is ``invalid`` (no scores, band or ``positive``).

    Conditions see answers and raw scale scores (not the band). Flags are still raised.
    """

    code: str
    when: Condition
    source: str


class CodingScheme(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The named coding of the option values, e.g. ``k10_australian_1_5`` (store it, never mix)."""

    id: str
    source: str


class ScoringSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How one instrument is scored; see the module docstring."""

    scored_items: tuple[str, ...]
    reverse_items: tuple[str, ...] = ()
    total: Scale | None = None
    subscales: tuple[Scale, ...] = ()
    classification: Classification | None = None
    positive: PositiveRule | None = None
    flags: tuple[FlagRule, ...] = ()
    validity: tuple[ValidityRule, ...] = ()
    coding: CodingScheme | None = None
