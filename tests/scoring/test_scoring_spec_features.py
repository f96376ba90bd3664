"""The general spec on synthetic definitions: reverse keys, subscales, zero fill, means,
descending bands, OR-rules and score/count conditions (the shapes issue 3 will ship)."""

from __future__ import annotations

import json
import typing
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import instruments
import scoring
from instruments import DefinitionError, Instrument, default_catalogue, parse_definition
from scoring import SubscaleResult, round_half_up, score
from scoring._rounding import round_half_up_scaled

SOURCE = "test fixture"


def definition(n_items: int, low: int, high: int, scoring_spec: dict[str, Any]) -> Instrument:
    doc = {
        "format": 1,
        "id": "synthetic",
        "version": "0.1",
        "title": {"en": "Synthetic"},
        "instructions": {"en": "Answer."},
        "languages": {"en": {"status": "unvalidated", "source": SOURCE}},
        "licence": "test",
        "citation": "test",
        "min_age": 0,
        "max_age": 99,
        "option_sets": {
            "scale": {
                "min": low,
                "max": high,
                "options": [{"value": v, "text": {"en": str(v)}} for v in range(low, high + 1)],
            }
        },
        "items": [
            {"id": f"i{k}", "text": {"en": f"Item {k}"}, "options": "scale"}
            for k in range(1, n_items + 1)
        ],
        "scoring": scoring_spec,
    }
    return parse_definition(json.dumps(doc), "synthetic.json")


def ids(*numbers: int) -> list[str]:
    return [f"i{k}" for k in numbers]


def answers(*values: int | None) -> dict[str, int | None]:
    return {f"i{k}": v for k, v in enumerate(values, start=1)}


# --------------------------------------------------------------------------- reverse keys

REVERSED = definition(
    4,
    0,
    3,
    {
        "scored_items": ids(1, 2, 3, 4),
        "reverse_items": ids(2, 4),
        "total": {
            "id": "total",
            "items": ids(1, 2, 3, 4),
            "range": [0, 12],
            "missing": {"rule": "complete", "source": SOURCE},
            "bands": [
                {"code": "low", "min": 0, "max": 5, "source": SOURCE},
                {"code": "high", "min": 6, "max": 12, "source": SOURCE},
            ],
            "cutoff": {"min": 7, "source": SOURCE},
        },
        "flags": [
            {
                "code": "raw_zero_on_reversed",
                "severity": "follow_up",
                "item": "i2",
                "when": {"op": "answer", "item": "i2", "values": [0]},
                "source": SOURCE,
            }
        ],
    },
)


def test_reverse_keyed_items_score_min_plus_max_minus_value() -> None:
    result = score(REVERSED, answers(0, 0, 0, 0))
    assert result.total == 6  # i2 and i4 count 3 each
    assert result.band == "high"
    assert result.positive is False
    result = score(REVERSED, answers(3, 0, 3, 0))
    assert result.total == 12
    assert result.highest_band is True
    assert result.positive is True
    assert score(REVERSED, answers(0, 3, 0, 3)).total == 0


def test_conditions_see_raw_values_not_keyed_ones() -> None:
    assert [f.code for f in score(REVERSED, answers(0, 0, 0, 0)).flags] == ["raw_zero_on_reversed"]
    assert score(REVERSED, answers(0, 3, 0, 0)).flags == ()


# --------------------------------------------------------------------------- subscales, zero fill

PSC_LIKE = definition(
    6,
    0,
    2,
    {
        "scored_items": ids(1, 2, 3, 4, 5, 6),
        "total": {
            "id": "total",
            "items": ids(1, 2, 3, 4, 5, 6),
            "range": [0, 12],
            "missing": {"rule": "zero_fill", "max_missing": 1, "source": SOURCE},
            "cutoff": {"min": 6, "source": SOURCE},
        },
        "subscales": [
            {
                "id": "first",
                "items": ids(1, 2, 3),
                "range": [0, 6],
                "missing": {"rule": "zero_fill", "max_missing": 3 - 1, "source": SOURCE},
                "cutoff": {"min": 3, "source": SOURCE},
            },
            {
                "id": "second",
                "items": ids(4, 5, 6),
                "range": [0, 6],
                "missing": {"rule": "prorate", "max_missing": 1, "source": SOURCE},
                "bands": [
                    {"code": "ok", "min": 0, "max": 3, "source": SOURCE},
                    {"code": "raised", "min": 4, "max": 6, "source": SOURCE},
                ],
            },
        ],
    },
)


def test_zero_fill_counts_blanks_as_zero() -> None:
    result = score(PSC_LIKE, answers(2, 2, None, 1, 1, 0))
    assert result.status == "scored"
    assert result.total == 6
    assert result.prorated is False
    assert result.positive is True
    assert result.band is None
    assert result.missing == ("i3",)
    assert result.subscales == (
        SubscaleResult("first", "scored", 4.0, False, None, True),
        SubscaleResult("second", "scored", 2.0, False, "ok", None),
    )


def test_too_many_blanks_is_invalid() -> None:
    result = score(PSC_LIKE, answers(2, None, None, 2, 2, None))
    assert result.status == "invalid"
    assert result.total is None
    assert result.positive is None
    first, second = result.subscales
    assert first == SubscaleResult("first", "scored", 2.0, False, None, False)
    assert second == SubscaleResult("second", "scored", 6.0, True, "raised", None)


def test_subscale_unscorable_independently() -> None:
    result = score(PSC_LIKE, answers(1, 1, 1, None, None, 0))
    assert result.status == "invalid"
    assert result.subscales[1] == SubscaleResult("second", "unscorable", None, False, None, None)


# --------------------------------------------------------------------------- means, decimals

MEAN = definition(
    8,
    1,
    5,
    {
        "scored_items": ids(*range(1, 9)),
        "total": {
            "id": "total",
            "items": ids(*range(1, 9)),
            "method": "mean",
            "decimals": 2,
            "range": [1, 5],
            "missing": {"rule": "prorate", "max_missing": 2, "source": SOURCE},
            "bands": [
                {"code": "none", "min": 1, "max": 1.99, "source": SOURCE},
                {"code": "mild", "min": 2, "max": 2.99, "source": SOURCE},
                {"code": "moderate", "min": 3, "max": 3.99, "source": SOURCE},
                {"code": "severe", "min": 4, "max": 4.99, "source": SOURCE},
                {"code": "very_severe", "min": 5, "max": 5, "source": SOURCE},
            ],
            "cutoff": {"min": 2, "source": SOURCE},
        },
    },
)


def test_mean_scale_bands_at_two_decimals() -> None:
    result = score(MEAN, answers(2, 2, 2, 2, 2, 2, 2, 1))  # 15/8 = 1.875 -> 1.88
    assert result.total == 1.875
    assert result.band == "none"
    assert result.positive is False
    result = score(MEAN, answers(2, 2, 2, 2, 2, 2, 2, 2))
    assert (result.total, result.band, result.positive) == (2.0, "mild", True)
    result = score(MEAN, answers(5, 5, 5, 5, 5, 5, 5, 4))  # 4.875
    assert result.band == "severe"
    assert score(MEAN, answers(*[5] * 8)).highest_band is True


def test_mean_scale_proration_is_the_answered_mean() -> None:
    result = score(MEAN, answers(3, 3, 3, 3, 3, 4, None, None))
    assert result.prorated is True
    assert result.total == pytest.approx(19 / 6)
    assert result.band == "moderate"
    assert score(MEAN, answers(3, 3, 3, 3, 3, None, None, None)).status == "unscorable"


# --------------------------------------------------------------------------- lower is worse

WHO5_LIKE = definition(
    5,
    0,
    5,
    {
        "scored_items": ids(1, 2, 3, 4, 5),
        "total": {
            "id": "total",
            "items": ids(1, 2, 3, 4, 5),
            "range": [0, 25],
            "missing": {"rule": "complete", "source": SOURCE},
            "bands": [
                {"code": "good", "min": 13, "max": 25, "source": SOURCE},
                {"code": "poor", "min": 8, "max": 12, "source": SOURCE},
                {"code": "likely_depression", "min": 0, "max": 7, "source": SOURCE},
            ],
            "cutoff": {"max": 12, "source": SOURCE},
        },
        "positive": {
            "when": {
                "op": "any",
                "of": [
                    {"op": "score", "scale": "total", "max": 12},
                    {"op": "count", "items": ids(1, 2, 3, 4, 5), "values": [0, 1], "min": 1},
                ],
            },
            "source": SOURCE,
        },
        "flags": [
            {
                "code": "very_low",
                "severity": "follow_up",
                "when": {
                    "op": "all",
                    "of": [
                        {"op": "band", "bands": ["likely_depression"]},
                        {"op": "not", "of": {"op": "unanswered", "item": "i1"}},
                    ],
                },
                "source": SOURCE,
            }
        ],
    },
)


def test_descending_bands() -> None:
    assert score(WHO5_LIKE, answers(5, 5, 5, 5, 5)).band == "good"
    assert score(WHO5_LIKE, answers(3, 3, 2, 2, 2)).band == "poor"
    low = score(WHO5_LIKE, answers(1, 1, 1, 1, 1))
    assert low.band == "likely_depression"
    assert low.highest_band is True
    assert [f.code for f in low.flags] == ["very_low"]


def test_or_rule_replaces_the_cutoff() -> None:
    assert score(WHO5_LIKE, answers(5, 5, 5, 5, 5)).positive is False
    assert score(WHO5_LIKE, answers(3, 3, 2, 2, 2)).positive is True  # total 12
    single_low_item = score(WHO5_LIKE, answers(5, 5, 5, 5, 1))
    assert single_low_item.band == "good"
    assert single_low_item.positive is True
    assert score(WHO5_LIKE, answers(5, 5, 5, 5, None)).positive is None


# --------------------------------------------------------------------------- spec checks


def test_loader_rejects_feature_misuse() -> None:
    base: dict[str, Any] = {
        "scored_items": ids(1, 2),
        "total": {
            "id": "total",
            "items": ids(1, 2),
            "method": "mean",
            "decimals": 1,
            "range": [0, 3],
            "missing": {"rule": "complete", "source": SOURCE},
            "bands": [
                {"code": "low", "min": 0, "max": 1.45, "source": SOURCE},
                {"code": "high", "min": 1.5, "max": 3, "source": SOURCE},
            ],
        },
    }
    with pytest.raises(DefinitionError, match=r"bands\[0\]\.max: 1\.45 is not a multiple of"):
        definition(2, 0, 3, base)
    base["total"]["bands"][0]["max"] = 1.3
    with pytest.raises(DefinitionError, match=r"bands\[1\]\.min: gap between bands"):
        definition(2, 0, 3, base)
    base["total"]["bands"][0]["max"] = 1.4
    base["total"]["range"] = [0, 6]
    with pytest.raises(DefinitionError, match=r"total\.range: declared 0\.\.6 but the items"):
        definition(2, 0, 3, base)
    base["total"]["range"] = [0, 3]
    base["reverse_items"] = ["i9"]
    with pytest.raises(DefinitionError, match=r"reverse_items\[0\]: unknown item 'i9'"):
        definition(2, 0, 3, base)
    del base["reverse_items"]
    base["positive"] = {"when": {"op": "score", "scale": "sub"}, "source": SOURCE}
    with pytest.raises(DefinitionError, match=r"positive\.when\.scale: unknown scale 'sub'"):
        definition(2, 0, 3, base)
    base["positive"] = {"when": {"op": "count", "items": ids(1), "values": [1], "min": 2,
                                 "max": 1}, "source": SOURCE}  # fmt: skip
    with pytest.raises(DefinitionError, match="bad count range"):
        definition(2, 0, 3, base)


def test_descending_band_overlap_is_rejected() -> None:
    spec: dict[str, Any] = {
        "scored_items": ids(1),
        "total": {
            "id": "total",
            "items": ids(1),
            "range": [0, 5],
            "missing": {"rule": "complete", "source": SOURCE},
            "bands": [
                {"code": "good", "min": 3, "max": 5, "source": SOURCE},
                {"code": "bad", "min": 0, "max": 3, "source": SOURCE},
            ],
        },
    }
    with pytest.raises(DefinitionError, match=r"bands\[1\]\.max: bands 'good' and 'bad' overlap"):
        definition(1, 0, 5, spec)


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("numerator", "denominator", "decimals", "expected"),
    [
        (9, 2, 0, 5), (7, 2, 0, 4), (5, 2, 0, 3), (81, 8, 0, 10), (27, 8, 0, 3),
        (-5, 2, 0, -2), (2675, 1000, 2, 268), (1995, 1000, 2, 200), (19, 6, 2, 317),
    ],
)  # fmt: skip
def test_round_half_up_scaled(
    numerator: int, denominator: int, decimals: int, expected: int
) -> None:
    assert round_half_up_scaled(numerator, denominator, decimals) == expected


def test_round_half_up_on_decimal_floats() -> None:
    assert round_half_up(2.5) == 3
    assert round_half_up(4.5) == 5
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(Fraction(1, 3), 3) == 0.333


def test_round_half_up_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_half_up_scaled(1, 0)
    with pytest.raises(ValueError, match="decimals"):
        round_half_up_scaled(1, 1, -1)


@given(st.integers(-10_000, 10_000), st.integers(1, 500))
def test_round_half_up_matches_the_definition(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    rounded = round_half_up_scaled(numerator, denominator)
    assert rounded - Fraction(1, 2) <= exact < rounded + Fraction(1, 2)


def test_severity_literal_matches_the_result_contract() -> None:
    assert typing.get_args(instruments.Severity) == typing.get_args(scoring.FlagSeverity)


# --------------------------------------------------------------------------- PHQ-9 properties

PHQ9 = default_catalogue().get("phq9")
KROENKE = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
           (15, 19, "moderately_severe"), (20, 27, "severe")]  # fmt: skip


@given(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=9, max_size=9))
def test_phq9_properties(values: list[int | None]) -> None:
    answers_ = {f"item{k}": v for k, v in enumerate(values, start=1)}
    result = score(PHQ9, answers_)
    answered = [v for v in values if v is not None]
    assert result.answered == len(answered)
    assert item9_flags(result) == (
        {"phq_item9_unanswered"} if values[8] is None
        else {"phq_item9_positive"} if values[8] >= 1
        else set()
    )  # fmt: skip
    if len(answered) < 7:
        assert (result.status, result.total, result.band) == ("unscorable", None, None)
        return
    expected = Fraction(sum(answered) * 9, len(answered))
    assert result.total == float(expected)
    assert 0 <= expected <= 27
    rounded = int(expected + Fraction(1, 2))
    assert result.band == next(code for lo, hi, code in KROENKE if lo <= rounded <= hi)
    assert result.positive is (rounded >= 10)
    assert result.prorated is (len(answered) < 9)


def item9_flags(result: scoring.ScoreResult) -> set[str]:
    return {f.code for f in result.flags}
