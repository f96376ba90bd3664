"""PHQ-2 / GAD-2 (cut 3; Kroenke 2003, 2007), K6 (cut 13; Kessler 2003) and K10 (Australian
bands; ABS 4817.0.55.001): known answers from the published scoring rules."""

from __future__ import annotations

import pytest

from instruments import default_catalogue
from scoring import AnswerError, score

CATALOGUE = default_catalogue()


def fill(instrument_id: str, total: int) -> dict[str, int | None]:
    """Answers reaching ``total``, filling items in order from their lowest value."""
    instrument = CATALOGUE.get(instrument_id)
    answers: dict[str, int | None] = {}
    left = total - sum(item.min_value for item in instrument.items)
    for item in instrument.items:
        step = min(item.max_value - item.min_value, left)
        answers[item.id] = item.min_value + step
        left -= step
    assert left == 0, "total out of range"
    return answers


# --------------------------------------------------------------------------- PHQ-2 / GAD-2


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
@pytest.mark.parametrize(
    ("total", "band", "positive"),
    [(0, "negative", False), (2, "negative", False), (3, "positive", True), (6, "positive", True)],
)
def test_two_item_screens(instrument_id: str, total: int, band: str, positive: bool) -> None:
    result = score(CATALOGUE.get(instrument_id), fill(instrument_id, total))
    assert result.status == "scored"
    assert result.total == total
    assert result.band == band
    assert result.positive is positive
    assert result.highest_band is positive
    assert result.flags == ()
    assert result.answered == 2


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
def test_two_item_screens_any_missing_is_unscorable(instrument_id: str) -> None:
    result = score(CATALOGUE.get(instrument_id), {"item1": 3, "item2": None})
    assert (result.status, result.total, result.band, result.positive) == (
        "unscorable", None, None, None,
    )  # fmt: skip
    assert result.missing == ("item2",)


@pytest.mark.parametrize(("short", "long"), [("phq2", "phq9"), ("gad2", "gad7")])
def test_two_item_screens_share_the_long_forms_items(short: str, long: str) -> None:
    a, b = CATALOGUE.get(short), CATALOGUE.get(long)
    for item_id in ("item1", "item2"):
        assert a.item(item_id).text == b.item(item_id).text
        assert a.item(item_id).options == b.item(item_id).options
    assert a.instructions == b.instructions
    assert set(a.languages) == {"en", "zh-CN"}


# --------------------------------------------------------------------------- K6


K6_CASES = [
    (0, "below_cutoff", False), (12, "below_cutoff", False),
    (13, "serious_distress", True), (24, "serious_distress", True),
]  # fmt: skip


@pytest.mark.parametrize(("total", "band", "positive"), K6_CASES)
def test_k6_cutoff_13(total: int, band: str, positive: bool) -> None:
    result = score(CATALOGUE.get("k6"), fill("k6", total))
    assert (result.total, result.band, result.positive) == (total, band, positive)
    assert result.highest_band is positive


def test_k6_coding_is_us_0_to_4() -> None:
    k6 = CATALOGUE.get("k6")
    assert k6.scoring.coding is not None and k6.scoring.coding.id == "us_0_4"
    assert {item.values for item in k6.items} == {(4, 3, 2, 1, 0)}
    assert score(k6, fill("k6", 24)).total == 24


def test_k6_missing_is_unscorable() -> None:
    answers = fill("k6", 20) | {"item6": None}
    assert score(CATALOGUE.get("k6"), answers).status == "unscorable"


# --------------------------------------------------------------------------- K10


K10_CASES = [
    (10, "low"), (15, "low"), (16, "moderate"), (21, "moderate"), (22, "high"), (29, "high"),
    (30, "very_high"), (50, "very_high"),
]  # fmt: skip


@pytest.mark.parametrize(("total", "band"), K10_CASES)
def test_k10_australian_bands(total: int, band: str) -> None:
    result = score(CATALOGUE.get("k10"), fill("k10", total))
    assert result.status == "scored"
    assert result.total == total
    assert result.band == band
    assert result.highest_band is (band == "very_high")
    assert result.positive is None  # no published cut-off in instruments.md


def test_k10_coding_is_australian_1_to_5() -> None:
    k10 = CATALOGUE.get("k10")
    assert k10.scoring.coding is not None and k10.scoring.coding.id == "australian_1_5"
    assert {(item.min_value, item.max_value) for item in k10.items} == {(1, 5)}
    assert k10.scoring.total is not None and k10.scoring.total.range == (10, 50)


def test_k10_zero_is_rejected_not_clamped() -> None:
    with pytest.raises(AnswerError, match=r"'item3'.*allowed values: 1, 2, 3, 4, 5"):
        score(CATALOGUE.get("k10"), fill("k10", 10) | {"item3": 0})


def test_k10_missing_is_unscorable() -> None:
    result = score(CATALOGUE.get("k10"), fill("k10", 40) | {"item1": None})
    assert (result.status, result.band) == ("unscorable", None)
