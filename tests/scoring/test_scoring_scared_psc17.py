"""SCARED (total >= 25 and five subscale cut-offs; Birmaher 1999 sheet) and PSC-17 (Gardner 1999
cut-offs; blanks count 0, 4 or more blanks invalid): known answers."""

from __future__ import annotations

import pytest

from instruments import default_catalogue
from scoring import ScoreResult, SubscaleResult, score

CATALOGUE = default_catalogue()
SCARED = CATALOGUE.get("scared")
PSC17 = CATALOGUE.get("psc17")

SCARED_SUBSCALES = {
    "panic_somatic": ([1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38], 7),
    "generalized_anxiety": ([5, 7, 14, 21, 23, 28, 33, 35, 37], 9),
    "separation_anxiety": ([4, 8, 13, 16, 20, 25, 29, 31], 5),
    "social_anxiety": ([3, 10, 26, 32, 39, 40, 41], 8),
    "school_avoidance": ([2, 11, 17, 36], 3),
}
PSC_SUBSCALES = {
    "internalizing": ([2, 6, 9, 11, 15], 5),
    "attention": ([1, 3, 7, 13, 17], 7),
    "externalizing": ([4, 5, 8, 10, 12, 14, 16], 7),
}


def spread(numbers: list[int], total: int, top: int) -> dict[str, int | None]:
    """Answers on ``numbers`` summing to ``total`` (items filled up to ``top`` in order)."""
    answers: dict[str, int | None] = {}
    left = total
    for k in numbers:
        answers[f"item{k}"] = min(top, left)
        left -= min(top, left)
    assert left == 0
    return answers


def subscale(result: ScoreResult, subscale_id: str) -> SubscaleResult:
    return next(s for s in result.subscales if s.subscale_id == subscale_id)


# --------------------------------------------------------------------------- SCARED


def scared_answers(total: int = 0, on: list[int] | None = None) -> dict[str, int | None]:
    return dict.fromkeys((f"item{k}" for k in range(1, 42)), 0) | spread(
        on if on is not None else list(range(1, 42)), total, 2
    )


def test_scared_structure_matches_the_sheet() -> None:
    spec = SCARED.scoring
    assert [s.id for s in spec.subscales] == list(SCARED_SUBSCALES)
    for scale in spec.subscales:
        numbers, cut = SCARED_SUBSCALES[scale.id]
        assert scale.items == tuple(f"item{k}" for k in numbers)
        assert scale.cutoff is not None and scale.cutoff.min == cut
    covered = sorted(k for numbers, _ in SCARED_SUBSCALES.values() for k in numbers)
    assert covered == list(range(1, 42))
    assert "item20" in spec.subscales[2].items  # separation, as on the scoring sheet


def test_scared_all_minimum_and_maximum() -> None:
    low = score(SCARED, scared_answers(0))
    assert (low.total, low.positive) == (0, False)
    assert all(s.positive is False and s.score == 0 for s in low.subscales)
    high = score(SCARED, scared_answers(82))
    assert (high.total, high.positive) == (82, True)
    assert all(s.positive is True for s in high.subscales)


@pytest.mark.parametrize(("total", "positive"), [(24, False), (25, True), (30, True)])
def test_scared_total_cutoff_25(total: int, positive: bool) -> None:
    result = score(SCARED, scared_answers(total))
    assert result.total == total
    assert result.positive is positive
    assert result.band is None


@pytest.mark.parametrize("subscale_id", list(SCARED_SUBSCALES))
def test_scared_subscale_cutoffs(subscale_id: str) -> None:
    numbers, cut = SCARED_SUBSCALES[subscale_id]
    below = score(SCARED, scared_answers(cut - 1, numbers))
    at = score(SCARED, scared_answers(cut, numbers))
    assert subscale(below, subscale_id) == SubscaleResult(
        subscale_id, "scored", cut - 1, False, None, False
    )
    assert subscale(at, subscale_id) == SubscaleResult(
        subscale_id, "scored", cut, False, None, True
    )
    assert at.positive is False  # the total stays under 25
    others = [s for s in at.subscales if s.subscale_id != subscale_id]
    assert all(s.positive is False for s in others)


def test_scared_missing_item_makes_total_and_its_subscale_unscorable() -> None:
    result = score(SCARED, scared_answers(40) | {"item2": None})
    assert result.status == "unscorable"
    assert result.total is None and result.positive is None
    school = subscale(result, "school_avoidance")
    assert (school.status, school.score, school.positive) == ("unscorable", None, None)
    assert subscale(result, "panic_somatic").status == "scored"


def test_scared_chinese_text_is_marked_unvalidated() -> None:
    info = SCARED.languages["zh-CN"]
    assert info.status == "unvalidated"
    assert "王凯" in info.source
    assert SCARED.item("item1").text["zh-CN"] == "当我感到害怕时，出现呼吸困难（出气不赢）。"


# --------------------------------------------------------------------------- PSC-17


def psc_answers(total: int = 0, on: list[int] | None = None) -> dict[str, int | None]:
    return dict.fromkeys((f"item{k}" for k in range(1, 18)), 0) | spread(
        on if on is not None else list(range(1, 18)), total, 2
    )


def test_psc17_all_minimum_and_maximum() -> None:
    low = score(PSC17, psc_answers(0))
    assert (low.status, low.total, low.positive) == ("scored", 0, False)
    high = score(PSC17, psc_answers(34))
    assert (high.total, high.positive) == (34, True)
    assert [s.positive for s in high.subscales] == [True, True, True]


@pytest.mark.parametrize(("total", "positive"), [(14, False), (15, True)])
def test_psc17_total_cutoff_15(total: int, positive: bool) -> None:
    result = score(PSC17, psc_answers(total))
    assert (result.total, result.positive) == (total, positive)


@pytest.mark.parametrize("subscale_id", list(PSC_SUBSCALES))
def test_psc17_subscale_cutoffs(subscale_id: str) -> None:
    numbers, cut = PSC_SUBSCALES[subscale_id]
    below = subscale(score(PSC17, psc_answers(cut - 1, numbers)), subscale_id)
    at = subscale(score(PSC17, psc_answers(cut, numbers)), subscale_id)
    assert (below.score, below.positive) == (cut - 1, False)
    assert (at.score, at.positive) == (cut, True)


def test_psc17_three_blanks_count_zero() -> None:
    answers = psc_answers(34) | {"item2": None, "item6": None, "item9": None}
    result = score(PSC17, answers)
    assert result.status == "scored"
    assert result.total == 28
    assert result.prorated is False
    assert result.missing == ("item2", "item6", "item9")
    internalizing = subscale(result, "internalizing")
    assert (internalizing.status, internalizing.score, internalizing.positive) == (
        "scored", 4, False,
    )  # fmt: skip


def test_psc17_four_blanks_void_the_form_and_every_subscale() -> None:
    # Blanks spread so that no subscale has more than 2: the form-level rule still voids them.
    answers = psc_answers(34) | {"item1": None, "item2": None, "item4": None, "item5": None}
    result = score(PSC17, answers)
    assert result.status == "invalid"
    assert (result.total, result.positive, result.band) == (None, None, None)
    assert all(s.status == "invalid" and s.score is None for s in result.subscales)


def test_psc17_is_parent_report_english_only() -> None:
    assert set(PSC17.languages) == {"en"}
    assert (PSC17.min_age, PSC17.max_age) == (4, 16)
    assert PSC17.item("item11").text["en"] == "Seems to be having less fun"
