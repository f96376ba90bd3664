"""The merge rule of saved answers (issue 17): older, empty and out-of-order saves never erase a
newer answer. Pure code: no database."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_service.screening.saved_answers import (
    AUTHORITATIVE_SEQ,
    SavedState,
    Stamp,
    merge,
    union_for_submission,
)

ITEMS = ("q1", "q2", "q3")


def test_an_empty_save_never_erases_an_answer() -> None:
    state = merge(SavedState(), {"asq": {"q5": 1}}, Stamp(0, 10)).state
    after = merge(state, {"asq": {"q5": None, "q1": None}}, Stamp(0, 99)).state
    assert after.answers == {"asq": {"q5": 1, "q1": None}}


def test_an_older_save_arriving_late_is_kept_out() -> None:
    first = merge(SavedState(), {"gad7": {"item1": 3}}, Stamp(0, 20)).state
    late = merge(first, {"gad7": {"item1": 0}}, Stamp(0, 10))
    assert late.state.answers == {"gad7": {"item1": 3}}
    assert late.kept == (("gad7", "item1"),) and late.changed == ()
    assert late.state.version == first.version  # nothing changed, nothing counted


def test_a_page_rendered_later_wins_over_an_earlier_page_whatever_its_clock() -> None:
    # Part 3 seen at version 0 (an autosave of q5 = 0 is still in flight), the student goes on,
    # comes back to part 3 (rendered at a later version) and answers q5 = 1 there.
    state = merge(SavedState(), {"asq": {"q1": 0}}, Stamp(0, 5)).state
    state = merge(state, {"asq": {"q5": 1}}, Stamp(state.version, 1)).state
    state = merge(state, {"asq": {"q5": 0}}, Stamp(0, 10**12)).state  # the stale one lands
    assert state.answers["asq"]["q5"] == 1


def test_a_save_without_a_stamp_is_the_latest() -> None:
    state = merge(SavedState(), {"phq-a": {"item9": 2}}, Stamp(0, 10**12)).state
    state = merge(state, {"phq-a": {"item9": 0}}).state
    assert state.answers["phq-a"]["item9"] == 0
    assert state.stamps["phq-a"]["item9"] == [1, AUTHORITATIVE_SEQ]


def test_an_answer_fills_an_item_left_out_whatever_the_order() -> None:
    state = merge(SavedState(), {"asq": {"q5": None}}, Stamp(0, 50)).state  # Next, q5 left out
    state = merge(state, {"asq": {"q5": 1}}, Stamp(0, 40)).state  # its autosave, late
    assert state.answers["asq"]["q5"] == 1


def test_the_same_answer_again_still_moves_its_stamp() -> None:
    # The student picks 1, then 0, then 1 again; the "0" request arrives last.
    state = merge(SavedState(), {"asq": {"q5": 1}}, Stamp(0, 1)).state
    again = merge(state, {"asq": {"q5": 1}}, Stamp(0, 3))
    assert again.changed == (("asq", "q5"),)
    late = merge(again.state, {"asq": {"q5": 0}}, Stamp(0, 2)).state
    assert late.answers["asq"]["q5"] == 1


def test_a_view_from_the_future_counts_as_now() -> None:
    state = merge(SavedState(), {"asq": {"q1": 1}}, Stamp(999, 1)).state
    assert state.stamps["asq"]["q1"] == [0, 1]


@pytest.mark.parametrize("view, seq", [(-1, 0), (0, -1), (0, AUTHORITATIVE_SEQ + 1), (True, 1)])
def test_a_bad_stamp_is_refused(view: Any, seq: Any) -> None:
    with pytest.raises(ValueError, match=r"view|seq"):
        Stamp(view, seq)


def test_a_submission_is_the_union_of_saved_and_submitted() -> None:
    state = merge(SavedState(), {"asq": {"q5": 1, "q1": 0}}, Stamp(0, 1)).state
    answers = union_for_submission(
        {"asq": ["q1", "q2", "q3", "q4", "q5"], "gad7": ["item1"]},
        state,
        {"asq": {"q1": 1, "q5": None}, "gad7": {}},
    )
    assert answers == {
        "asq": {"q1": 1, "q2": None, "q3": None, "q4": None, "q5": 1},
        "gad7": {"item1": None},
    }


# A save: item → value (None: left out), and its stamp's seq (None: no stamp) and view offset.
_saves = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(ITEMS), st.one_of(st.none(), st.integers(0, 3))),
        st.one_of(st.none(), st.integers(0, 1000)),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(saves=_saves, order=st.randoms(use_true_random=False))
def test_any_arrival_order_keeps_the_newest_answer_of_one_page(saves: Any, order: Any) -> None:
    """Saves of one page (one view), each with a distinct seq, applied in any order: every item
    ends with the value of its highest-seq non-empty save, and an item only left out is None."""
    stamped = [(answers, i) for i, (answers, _) in enumerate(saves)]
    shuffled = list(stamped)
    order.shuffle(shuffled)
    state = SavedState()
    for answers, seq in shuffled:
        state = merge(state, {"asq": answers}, Stamp(0, seq)).state
    for item in ITEMS:
        given_values = [(seq, a[item]) for a, seq in stamped if a.get(item) is not None]
        seen = any(item in a for a, _ in stamped)
        saved = state.answers.get("asq", {})
        if given_values:
            assert saved[item] == max(given_values)[1]
        elif seen:
            assert saved[item] is None
        else:
            assert item not in saved


@settings(max_examples=300, deadline=None)
@given(saves=_saves)
def test_no_save_ever_turns_an_answer_into_a_blank(saves: Any) -> None:
    state = SavedState()
    for answers, seq in saves:
        before = {k: v for k, v in state.answers.get("asq", {}).items() if v is not None}
        stamp = None if seq is None else Stamp(state.version, seq)
        state = merge(state, {"asq": answers}, stamp).state
        after = state.answers.get("asq", {})
        assert all(after[k] is not None for k in before)
