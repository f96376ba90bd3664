"""GAD-7 known answers: bands and cut-off (Spitzer et al. 2006); any missing -> unscorable."""

from __future__ import annotations

import pytest

from instruments import default_catalogue
from scoring import score

GAD7 = default_catalogue().get("gad7")
ITEMS = [f"item{i}" for i in range(1, 8)]


def answers_for_total(total: int) -> dict[str, int | None]:
    answers: dict[str, int | None] = {}
    left = total
    for item in ITEMS:
        answers[item] = min(3, left)
        left -= min(3, left)
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band", "positive"),
    [
        (0, "minimal", False), (4, "minimal", False), (5, "mild", False), (9, "mild", False),
        (10, "moderate", True), (14, "moderate", True), (15, "severe", True),
        (20, "severe", True), (21, "severe", True),
    ],
)  # fmt: skip
def test_bands_and_cutoff(total: int, band: str, positive: bool) -> None:
    result = score(GAD7, answers_for_total(total))
    assert result.status == "scored"
    assert result.total == total
    assert result.band == band
    assert result.positive is positive
    assert result.highest_band is (band == "severe")
    assert result.prorated is False
    assert result.flags == ()
    assert result.answered == 7


@pytest.mark.parametrize("missing", ITEMS)
def test_any_missing_item_is_unscorable(missing: str) -> None:
    answers = dict.fromkeys(ITEMS, 3) | {missing: None}
    result = score(GAD7, answers)
    assert result.status == "unscorable"
    assert result.total is None
    assert result.band is None
    assert result.positive is None
    assert result.highest_band is False
    assert result.prorated is False
    assert result.answered == 6
    assert result.missing == (missing,)


def test_missing_key_equals_none() -> None:
    assert score(GAD7, dict.fromkeys(ITEMS[:6], 1)) == score(
        GAD7, dict.fromkeys(ITEMS[:6], 1) | {"item7": None}
    )
