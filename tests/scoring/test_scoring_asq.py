"""ASQ against the NIMH rule table, with the project conventions for refusals and q5."""

from __future__ import annotations

import itertools

import pytest

from instruments import default_catalogue
from scoring import Flag, score

ASQ = default_catalogue().get("asq")
Q14 = ("q1", "q2", "q3", "q4")
YES, NO = 1, 0


def nimh_band(q14: tuple[int | None, ...], q5: int | None) -> str:
    """The NIMH ASQ rule table, written out independently of the definition.

    Yes to any of q1-q4, or a refusal (project convention: unanswered = refusal), is a positive
    screen; q5 yes is acute (also after all-no answers: the project convention escalates);
    a positive screen with q5 no or unanswered is non-acute; otherwise negative.
    """
    if q5 == YES:
        return "acute_positive"
    if any(answer in (YES, None) for answer in q14):
        return "non_acute_positive"
    return "negative"


@pytest.mark.parametrize("q5", [YES, NO, None])
@pytest.mark.parametrize("q14", list(itertools.product((YES, NO), repeat=4)))
def test_all_yes_no_combinations(q14: tuple[int, ...], q5: int | None) -> None:
    result = score(ASQ, {**dict(zip(Q14, q14, strict=True)), "q5": q5})
    band = nimh_band(q14, q5)
    assert result.band == band
    assert result.status == "scored"
    assert result.total is None
    assert result.prorated is False
    assert result.positive is (band != "negative")
    assert result.highest_band is (band == "acute_positive")
    expected = []
    if band != "negative":
        expected.append(Flag("asq_positive", "critical"))
    if band == "acute_positive":
        expected.append(Flag("asq_acute", "acute"))
    assert list(result.flags) == expected


@pytest.mark.parametrize("q5", [YES, NO, None])
@pytest.mark.parametrize("q14", list(itertools.product((YES, NO, None), repeat=4)))
def test_refusals_count_as_positive(q14: tuple[int | None, ...], q5: int | None) -> None:
    result = score(ASQ, {**dict(zip(Q14, q14, strict=True)), "q5": q5})
    assert result.band == nimh_band(q14, q5)
    unanswered = [q for q, a in zip(Q14, q14, strict=True) if a is None]
    follow_up = [f.item_id for f in result.flags if f.code == "asq_unanswered"]
    assert follow_up == unanswered
    assert all(f.severity == "follow_up" for f in result.flags if f.code == "asq_unanswered")
    assert result.answered == 5 - len(unanswered) - (q5 is None)


def test_table_examples() -> None:
    def run(q1: int | None, q2: int | None, q3: int | None, q4: int | None, q5: int | None) -> str:
        result = score(ASQ, {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5})
        return result.band or ""

    assert run(NO, NO, NO, NO, None) == "negative"  # q5 not asked
    assert run(NO, NO, NO, NO, NO) == "negative"
    assert run(YES, NO, NO, NO, NO) == "non_acute_positive"
    assert run(NO, NO, NO, YES, None) == "non_acute_positive"
    assert run(NO, NO, YES, NO, YES) == "acute_positive"
    assert run(NO, None, NO, NO, NO) == "non_acute_positive"  # refusal
    assert run(NO, NO, NO, NO, YES) == "acute_positive"  # escalation convention


def test_negative_screen() -> None:
    result = score(ASQ, dict.fromkeys(Q14, NO))
    assert result.band == "negative"
    assert result.positive is False
    assert result.flags == ()
    assert result.missing == ("q5",)
    assert result.answered == 4


def test_acute_after_all_no_raises_both_flags() -> None:
    result = score(ASQ, {**dict.fromkeys(Q14, NO), "q5": YES})
    assert result.band == "acute_positive"
    assert result.flags == (Flag("asq_positive", "critical"), Flag("asq_acute", "acute"))


def test_empty_form_is_positive_by_refusal() -> None:
    result = score(ASQ, {})
    assert result.band == "non_acute_positive"
    assert result.status == "scored"
    assert [f.code for f in result.flags] == ["asq_positive"] + ["asq_unanswered"] * 4
    assert [f.item_id for f in result.flags[1:]] == list(Q14)
