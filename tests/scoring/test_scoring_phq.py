"""PHQ-9 and PHQ-A known answers: bands (Kroenke 2001), proration, critical items."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from instruments import Instrument, default_catalogue
from scoring import Flag, ScoreResult, score

CATALOGUE = default_catalogue()
PHQ_IDS = ["phq9", "phq-a"]
ITEMS = [f"item{i}" for i in range(1, 10)]


def phq(instrument_id: str) -> Instrument:
    return CATALOGUE.get(instrument_id)


def extras(instrument_id: str) -> dict[str, int | None]:
    """Unscored items answered so that they raise no flag."""
    if instrument_id == "phq-a":
        return {"past_year": 0, "difficulty": 0, "past_month_thoughts": 0, "lifetime_attempt": 0}
    return {"difficulty": 0}


def answers_for_total(total: int) -> dict[str, int | None]:
    """Items 1-8 filled greedily with 3s; item 9 only used above 24."""
    answers: dict[str, int | None] = {}
    left = total
    for item in ITEMS[:8] + ITEMS[8:]:
        answers[item] = min(3, left)
        left -= answers[item] or 0
    assert left == 0
    return answers


def run(instrument_id: str, answers: Mapping[str, int | None]) -> ScoreResult:
    return score(phq(instrument_id), {**extras(instrument_id), **answers})


def codes(result: ScoreResult) -> set[str]:
    return {flag.code for flag in result.flags}


BOUNDARIES = [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
    (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
    (26, "severe"), (27, "severe"),
]  # fmt: skip


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_all_minimum(instrument_id: str) -> None:
    result = run(instrument_id, dict.fromkeys(ITEMS, 0))
    assert result.status == "scored"
    assert result.total == 0
    assert result.band == "minimal"
    assert result.positive is False
    assert result.highest_band is False
    assert result.prorated is False
    assert result.answered == 9
    assert result.missing == ()
    assert result.flags == ()
    assert result.subscales == ()
    assert result.instrument_id == instrument_id
    assert result.instrument_version == "1.0.0"


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_all_maximum(instrument_id: str) -> None:
    result = run(instrument_id, dict.fromkeys(ITEMS, 3))
    assert result.total == 27
    assert result.band == "severe"
    assert result.highest_band is True
    assert result.positive is True
    assert result.flags == (Flag("phq_item9_positive", "critical", "item9"),)


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
@pytest.mark.parametrize(("total", "band"), BOUNDARIES)
def test_band_boundaries(instrument_id: str, total: int, band: str) -> None:
    result = run(instrument_id, answers_for_total(total))
    assert result.total == total
    assert result.band == band
    assert result.positive is (total >= 10)
    assert result.highest_band is (band == "severe")


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
@pytest.mark.parametrize(
    ("total", "band"),
    [(3, "minimal"), (8, "mild"), (13, "moderate"), (18, "moderately_severe")],
)
def test_one_below_each_upper_boundary(instrument_id: str, total: int, band: str) -> None:
    assert run(instrument_id, answers_for_total(total)).band == band


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_cutoff_is_ten(instrument_id: str) -> None:
    assert run(instrument_id, answers_for_total(9)).positive is False
    assert run(instrument_id, answers_for_total(10)).positive is True


# --------------------------------------------------------------------------- proration


def with_missing(values: list[int | None]) -> dict[str, int | None]:
    return dict(zip(ITEMS, values, strict=True))


PRORATION = [
    # answered values (None = missing)           total     band
    ([2, 1, 1, 1, 1, 1, 1, 1, None], 10.125, "moderate"),  # 8 answered, sum 9
    ([1, 1, 1, 1, 0, 0, 0, 0, None], 4.5, "mild"),  # 4.5 rounds half up to 5
    ([1, 1, 1, 0, 0, 0, 0, 0, None], 3.375, "minimal"),
    ([2, 2, 2, 2, 2, 2, 0, 0, None], 13.5, "moderate"),  # 13.5 -> 14
    ([3, 3, 3, 3, 3, 2, 0, 0, None], 19.125, "moderately_severe"),
    ([3, 3, 3, 3, 3, 3, 1, 1, None], 22.5, "severe"),  # 22.5 -> 23
    ([1, 1, 1, 1, 1, 1, 1, None, None], 9.0, "mild"),  # 7 answered, sum 7
    ([2, 1, 1, 1, 1, 1, 1, None, None], 72 / 7, "moderate"),  # 10.29
    ([1, 1, 1, 0, 0, 0, 0, None, None], 27 / 7, "minimal"),  # 3.857 -> 4
    ([1, 1, 1, 1, 0, 0, 0, None, None], 36 / 7, "mild"),  # 5.14
]


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
@pytest.mark.parametrize(("values", "total", "band"), PRORATION)
def test_proration(instrument_id: str, values: list[int | None], total: float, band: str) -> None:
    result = run(instrument_id, with_missing(values))
    assert result.status == "scored"
    assert result.prorated is True
    assert result.total == pytest.approx(total, abs=1e-12)
    assert result.band == band
    assert result.answered == sum(v is not None for v in values)
    assert result.missing == tuple(i for i, v in zip(ITEMS, values, strict=True) if v is None)
    assert result.positive is (int(total + 0.5) >= 10)


def test_proration_rounds_half_up_not_to_even() -> None:
    # 4.5 -> 5 (mild); banker's rounding would give 4 (minimal).
    result = run("phq9", with_missing([1, 1, 1, 1, 0, 0, 0, 0, None]))
    assert result.total == 4.5
    assert result.band == "mild"


def test_prorated_total_is_kept_unrounded() -> None:
    result = run("phq9", with_missing([2, 1, 1, 1, 1, 1, 1, 1, None]))
    assert result.total == 10.125
    assert result.positive is True


def test_missing_unscored_item_does_not_prorate() -> None:
    result = score(phq("phq9"), dict.fromkeys(ITEMS, 1))
    assert result.prorated is False
    assert result.total == 9
    assert result.missing == ()


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_three_missing_is_unscorable_and_still_flags(instrument_id: str) -> None:
    result = run(instrument_id, with_missing([None, None, None, 3, 3, 3, 3, 3, 2]))
    assert result.status == "unscorable"
    assert result.total is None
    assert result.band is None
    assert result.positive is None
    assert result.highest_band is False
    assert result.prorated is False
    assert result.answered == 6
    assert result.missing == ("item1", "item2", "item3")
    assert codes(result) == {"phq_item9_positive"}


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_unscorable_with_item9_missing_flags_follow_up(instrument_id: str) -> None:
    result = run(instrument_id, with_missing([0, 0, None, None, 0, 0, 0, 0, None]))
    assert result.status == "unscorable"
    assert result.flags == (Flag("phq_item9_unanswered", "follow_up", "item9"),)


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_nothing_answered(instrument_id: str) -> None:
    result = score(phq(instrument_id), {})
    assert result.status == "unscorable"
    assert result.answered == 0
    assert len(result.missing) == 9
    assert "phq_item9_unanswered" in codes(result)


# --------------------------------------------------------------------------- critical items


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
@pytest.mark.parametrize("value", [1, 2, 3])
def test_item9_positive_whatever_the_total(instrument_id: str, value: int) -> None:
    result = run(instrument_id, {**dict.fromkeys(ITEMS, 0), "item9": value})
    assert result.total == value
    assert result.band == "minimal"
    assert result.positive is False
    assert result.flags == (Flag("phq_item9_positive", "critical", "item9"),)


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_item9_positive_on_prorated_form(instrument_id: str) -> None:
    result = run(instrument_id, with_missing([0, None, None, 0, 0, 0, 0, 0, 1]))
    assert result.prorated is True
    assert result.total == pytest.approx(9 / 7)
    assert result.band == "minimal"
    assert codes(result) == {"phq_item9_positive"}


@pytest.mark.parametrize("instrument_id", PHQ_IDS)
def test_item9_unanswered_on_prorated_form(instrument_id: str) -> None:
    result = run(instrument_id, with_missing([0, 0, 0, 0, 0, 0, 0, 0, None]))
    assert result.status == "scored"
    assert result.prorated is True
    assert result.total == 0
    assert result.flags == (Flag("phq_item9_unanswered", "follow_up", "item9"),)


def test_item9_zero_raises_no_flag() -> None:
    assert run("phq9", dict.fromkeys(ITEMS, 2) | {"item9": 0}).flags == ()


# --------------------------------------------------------------------------- PHQ-A extras

ZERO = dict.fromkeys(ITEMS, 0)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"past_month_thoughts": 1}, {("phqa_past_month_thoughts", "critical")}),
        ({"lifetime_attempt": 1}, {("phqa_lifetime_attempt", "critical")}),
        (
            {"past_month_thoughts": 1, "lifetime_attempt": 1},
            {("phqa_past_month_thoughts", "critical"), ("phqa_lifetime_attempt", "critical")},
        ),
        ({"past_month_thoughts": None}, {("phqa_past_month_thoughts_unanswered", "follow_up")}),
        ({"lifetime_attempt": None}, {("phqa_lifetime_attempt_unanswered", "follow_up")}),
        ({"past_year": 1, "difficulty": 3}, set()),
        ({"past_year": None, "difficulty": None}, set()),
    ],
)
def test_phqa_extra_questions(extra: dict[str, int | None], expected: set[tuple[str, str]]) -> None:
    result = run("phq-a", {**ZERO, **extra})
    assert {(f.code, f.severity) for f in result.flags} == expected
    assert result.total == 0
    assert result.band == "minimal"
    assert result.answered == 9
    assert result.missing == ()


def test_phqa_extra_flags_carry_the_item_id() -> None:
    result = run("phq-a", {**ZERO, "past_month_thoughts": 1, "lifetime_attempt": None})
    assert result.flags == (
        Flag("phqa_past_month_thoughts", "critical", "past_month_thoughts"),
        Flag("phqa_lifetime_attempt_unanswered", "follow_up", "lifetime_attempt"),
    )


def test_phqa_extra_flags_fire_on_unscorable_form() -> None:
    result = score(phq("phq-a"), {"lifetime_attempt": 1, "past_month_thoughts": 0})
    assert result.status == "unscorable"
    assert codes(result) == {"phqa_lifetime_attempt", "phq_item9_unanswered"}


def test_phqa_all_flags_at_once() -> None:
    result = score(
        phq("phq-a"),
        {**dict.fromkeys(ITEMS, 3), "past_month_thoughts": 1, "lifetime_attempt": 1},
    )
    assert [f.code for f in result.flags] == [
        "phq_item9_positive",
        "phqa_past_month_thoughts",
        "phqa_lifetime_attempt",
    ]
    assert result.highest_band is True
