"""CES-DC (reverse keys 4, 8, 12, 16; positive at 15 or more) and WHO-5 (lower is worse; raw < 13
poor, <= 7 likely depression, any item 0 or 1 positive): known answers."""

from __future__ import annotations

import pytest

from instruments import default_catalogue
from scoring import score

CATALOGUE = default_catalogue()
CESDC = CATALOGUE.get("ces-dc")
WHO5 = CATALOGUE.get("who5")
REVERSED = {"item4", "item8", "item12", "item16"}
CESDC_ITEMS = [f"item{k}" for k in range(1, 21)]


def cesdc_for_total(total: int) -> dict[str, int | None]:
    """Keyed contributions filled in item order; reverse-keyed items answered 3 - keyed."""
    answers: dict[str, int | None] = {}
    left = total
    for item in CESDC_ITEMS:
        keyed = min(3, left)
        left -= keyed
        answers[item] = 3 - keyed if item in REVERSED else keyed
    assert left == 0
    return answers


# --------------------------------------------------------------------------- CES-DC


def test_cesdc_all_minimum_and_maximum_answers() -> None:
    all_zero = score(CESDC, dict.fromkeys(CESDC_ITEMS, 0))
    assert all_zero.total == 12  # the four positive items answered 'Not At All' score 3 each
    assert all_zero.positive is False
    all_three = score(CESDC, dict.fromkeys(CESDC_ITEMS, 3))
    assert all_three.total == 48
    assert all_three.positive is True


@pytest.mark.parametrize(
    ("total", "positive"), [(0, False), (14, False), (15, True), (16, True), (60, True)]
)
def test_cesdc_positive_is_over_15(total: int, positive: bool) -> None:
    result = score(CESDC, cesdc_for_total(total))
    assert result.status == "scored"
    assert result.total == total
    assert result.positive is positive
    assert result.band is None  # no published severity bands
    assert result.highest_band is False


@pytest.mark.parametrize("item", sorted(REVERSED))
def test_cesdc_reverse_keyed_items(item: str) -> None:
    base = dict.fromkeys(CESDC_ITEMS, 0) | dict.fromkeys(REVERSED, 3)  # keyed total 0
    assert score(CESDC, base).total == 0
    assert score(CESDC, base | {item: 0}).total == 3
    assert score(CESDC, base | {item: 2}).total == 1
    plain = score(CESDC, base | {"item1": 2})
    assert plain.total == 2


def test_cesdc_any_missing_is_unscorable() -> None:
    result = score(CESDC, cesdc_for_total(30) | {"item12": None})
    assert (result.status, result.total, result.positive) == ("unscorable", None, None)


def test_cesdc_is_english_only() -> None:
    assert set(CESDC.languages) == {"en"}


# --------------------------------------------------------------------------- WHO-5

WHO5_ITEMS = [f"item{k}" for k in range(1, 6)]


def who5(*values: int | None) -> dict[str, int | None]:
    return dict(zip(WHO5_ITEMS, values, strict=True))


@pytest.mark.parametrize(
    ("values", "band", "positive"),
    [
        ((5, 5, 5, 5, 5), "adequate", False),  # maximum
        ((3, 3, 3, 2, 2), "adequate", False),  # 13: one above the cut
        ((3, 3, 2, 2, 2), "poor_wellbeing", True),  # 12: raw < 13
        ((2, 2, 2, 2, 2), "poor_wellbeing", True),  # 10
        ((2, 2, 2, 2, 0), "poor_wellbeing", True),  # 8
        ((2, 2, 2, 1, 0), "likely_depression", True),  # 7
        ((0, 0, 0, 0, 0), "likely_depression", True),  # minimum
    ],
)
def test_who5_bands(values: tuple[int, ...], band: str, positive: bool) -> None:
    result = score(WHO5, who5(*values))
    assert result.total == sum(values)
    assert result.band == band
    assert result.positive is positive
    assert result.highest_band is (band == "likely_depression")
    assert result.flags == ()


@pytest.mark.parametrize("low", [0, 1])
def test_who5_single_low_item_is_positive_with_a_high_total(low: int) -> None:
    result = score(WHO5, who5(5, 5, low, 5, 5))
    assert result.band == "adequate"
    assert result.positive is True


def test_who5_item_at_two_is_not_a_low_item() -> None:
    assert score(WHO5, who5(5, 5, 2, 5, 5)).positive is False


def test_who5_missing_is_unscorable() -> None:
    result = score(WHO5, who5(5, 5, 0, 5, None))
    assert (result.status, result.band, result.positive) == ("unscorable", None, None)
