"""Bad answers raise AnswerError naming the item; answers_from_list keys a list."""

from __future__ import annotations

from typing import Any

import pytest

from instruments import default_catalogue
from scoring import AnswerError, answers_from_list, score

CATALOGUE = default_catalogue()
PHQ9 = CATALOGUE.get("phq9")
ASQ = CATALOGUE.get("asq")
ITEMS = [f"item{i}" for i in range(1, 10)]


@pytest.mark.parametrize("value", [4, -1, True, False, "2", 1.5, 2.0, [1], b"1"])
def test_value_not_an_option_value(value: Any) -> None:
    answers: dict[str, Any] = dict.fromkeys(ITEMS, 0) | {"item3": value}
    with pytest.raises(AnswerError) as caught:
        score(PHQ9, answers)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.instrument_id == "phq9"
    assert error.item_id == "item3"
    message = str(error)
    assert "'item3'" in message
    assert "0, 1, 2, 3" in message
    assert repr(value) in message


def test_unknown_item() -> None:
    with pytest.raises(AnswerError) as caught:
        score(PHQ9, {"item1": 0, "item10": 1})
    assert caught.value.item_id == "item10"
    assert "unknown item 'item10'" in str(caught.value)
    assert "difficulty" in str(caught.value)


def test_unknown_non_string_key() -> None:
    with pytest.raises(AnswerError, match="unknown item 1"):
        score(PHQ9, {1: 0})  # type: ignore[dict-item]


def test_not_a_mapping() -> None:
    with pytest.raises(AnswerError, match="must be a mapping"):
        score(PHQ9, [0] * 10)  # type: ignore[arg-type]


def test_yes_no_items_only_take_zero_or_one() -> None:
    with pytest.raises(AnswerError, match=r"'q5'.*allowed values: 0, 1"):
        score(ASQ, {"q5": 2})


def test_unscored_item_values_are_checked_too() -> None:
    with pytest.raises(AnswerError) as caught:
        score(PHQ9, {"difficulty": 4})
    assert caught.value.item_id == "difficulty"


def test_values_are_never_clamped() -> None:
    with pytest.raises(AnswerError):
        score(PHQ9, dict.fromkeys(ITEMS, 3) | {"item1": 30})


def test_answers_from_list_keys_every_item_in_order() -> None:
    answers = answers_from_list(PHQ9, [1, 0, 2, 1, 0, 0, 1, 0, 1, None])
    assert list(answers) == [*ITEMS, "difficulty"]
    assert answers["item3"] == 2
    assert answers["difficulty"] is None
    result = score(PHQ9, answers)
    assert result.total == 6
    assert result.band == "mild"


@pytest.mark.parametrize("length", [0, 9, 11])
def test_answers_from_list_wrong_length(length: int) -> None:
    with pytest.raises(AnswerError) as caught:
        answers_from_list(PHQ9, [0] * length)
    assert caught.value.item_id is None
    message = str(caught.value)
    assert "expected 10 values" in message
    assert f"got {length} values" in message


def test_answers_from_list_rejects_a_string() -> None:
    with pytest.raises(AnswerError, match="got a string"):
        answers_from_list(ASQ, "10010")  # type: ignore[arg-type]


def test_answers_from_list_checks_values() -> None:
    with pytest.raises(AnswerError) as caught:
        answers_from_list(ASQ, [1, 0, 0, 0, True])
    assert caught.value.item_id == "q5"


def test_phqa_list_includes_unscored_items() -> None:
    phqa = CATALOGUE.get("phq-a")
    answers = answers_from_list(phqa, [0] * 9 + [1, 2, 0, 1])
    assert answers["lifetime_attempt"] == 1
    assert [f.code for f in score(phqa, answers).flags] == ["phqa_lifetime_attempt"]
