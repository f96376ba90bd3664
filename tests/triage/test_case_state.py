"""The case state machine: every legal and illegal transition, closing and tier decisions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from triage import (
    ACTION_ROLES,
    CARE_ROLES,
    CASE_ACTIONS,
    CASE_STATES,
    MIN_DECISION_REASON_CHARS,
    TRANSITIONS,
    CaseAction,
    CaseEvent,
    CaseRuleError,
    CaseState,
    IllegalTransition,
    TierDecision,
    allowed_actions,
    check_close,
    check_tier_change,
    may_perform,
    next_state,
    record_transition,
)

LEGAL: list[tuple[CaseState, CaseAction, CaseState]] = [
    ("open", "acknowledge", "acknowledged"),
    ("open", "refer", "referred"),
    ("acknowledged", "start_assessment", "assessing"),
    ("acknowledged", "refer", "referred"),
    ("assessing", "start_intervention", "intervening"),
    ("assessing", "start_monitoring", "monitoring"),
    ("assessing", "refer", "referred"),
    ("assessing", "close", "closed"),
    ("intervening", "start_monitoring", "monitoring"),
    ("intervening", "refer", "referred"),
    ("monitoring", "start_assessment", "assessing"),
    ("monitoring", "start_intervention", "intervening"),
    ("monitoring", "refer", "referred"),
    ("monitoring", "close", "closed"),
    ("referred", "referral_returned", "monitoring"),
    ("closed", "reopen", "open"),
]
LEGAL_PAIRS = {(state, action) for state, action, _ in LEGAL}
ILLEGAL = [pair for pair in itertools.product(CASE_STATES, CASE_ACTIONS) if pair not in LEGAL_PAIRS]
AT = datetime(2026, 9, 15, 10, tzinfo=timezone(timedelta(hours=8)))
REASON = "复评后无自伤风险，家长同意结案，持续观察一学期。"


def test_the_table_is_exactly_the_documented_one() -> None:
    table = [(s, a, t) for s, actions in TRANSITIONS.items() for a, t in actions.items()]
    assert sorted(table) == sorted(LEGAL)
    assert set(TRANSITIONS) == set(CASE_STATES)
    assert CASE_STATES == (
        "open",
        "acknowledged",
        "assessing",
        "intervening",
        "monitoring",
        "referred",
        "closed",
    )
    with pytest.raises(TypeError):
        TRANSITIONS["open"]["close"] = "closed"  # type: ignore[index]


@pytest.mark.parametrize(("state", "action", "target"), LEGAL)
def test_every_legal_transition(state: CaseState, action: CaseAction, target: CaseState) -> None:
    assert next_state(state, action) == target
    assert action in allowed_actions(state)


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_transition_is_rejected_naming_state_action_and_allowed(
    state: CaseState, action: CaseAction
) -> None:
    with pytest.raises(IllegalTransition) as info:
        next_state(state, action)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.state, error.action) == (state, action)
    assert error.allowed == allowed_actions(state)
    message = str(error)
    assert f"'{state}'" in message and f"'{action}'" in message
    assert ", ".join(allowed_actions(state)) in message


def test_allowed_actions() -> None:
    assert allowed_actions("open") == ("acknowledge", "refer")
    assert allowed_actions("closed") == ("reopen",)
    assert allowed_actions("referred") == ("referral_returned",)
    with pytest.raises(ValueError, match="unknown case state 'lost'"):
        allowed_actions("lost")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown case state"):
        next_state("lost", "close")  # type: ignore[arg-type]


def test_every_state_is_reachable_and_every_case_can_end() -> None:
    def reachable(start: CaseState) -> set[CaseState]:
        seen, todo = {start}, [start]
        while todo:
            for target in TRANSITIONS[todo.pop()].values():
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    assert reachable("open") == set(CASE_STATES)
    assert all("closed" in reachable(state) for state in CASE_STATES)
    # Never closed without a person following up: not from open or acknowledged.
    assert "close" not in allowed_actions("open")
    assert "close" not in allowed_actions("acknowledged")


def test_check_close_needs_a_real_reason() -> None:
    assert check_close(f"  {REASON}\n") == REASON
    assert check_close("十个汉字也算足够理由") == "十个汉字也算足够理由"  # exactly 10
    for bad in (None, "", "   "):
        with pytest.raises(CaseRuleError, match="needs a reason"):
            check_close(bad)
    with pytest.raises(CaseRuleError, match=f"at least {MIN_DECISION_REASON_CHARS} characters"):
        check_close("九个汉字不够充分的")


def test_raising_a_tier_is_always_allowed() -> None:
    for role in CARE_ROLES:
        decision = check_tier_change("yellow", "red", reason=None, role=role)
        assert decision == TierDecision(
            from_tier="yellow", to_tier="red", reason="", decided_by_role=role
        )
        assert not decision.lowers


def test_lowering_needs_a_counsellor_and_a_reason() -> None:
    decision = check_tier_change("red", "yellow", reason=f" {REASON} ", role="counsellor")
    assert decision.reason == REASON and decision.lowers
    for role in sorted(set(CARE_ROLES) - {"counsellor"}):
        with pytest.raises(CaseRuleError, match="only a counsellor may lower"):
            check_tier_change("orange", "yellow", reason=REASON, role=role)  # type: ignore[arg-type]
    with pytest.raises(CaseRuleError, match="needs a reason"):
        check_tier_change("orange", "yellow", reason=None, role="counsellor")
    with pytest.raises(CaseRuleError, match="at least 10 characters"):
        check_tier_change("orange", "yellow", reason="better", role="counsellor")


def test_tier_change_errors() -> None:
    with pytest.raises(CaseRuleError, match="already 'orange'"):
        check_tier_change("orange", "orange", reason=REASON, role="counsellor")
    with pytest.raises(CaseRuleError, match="close it instead"):
        check_tier_change("yellow", "green", reason=REASON, role="counsellor")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown care role"):
        check_tier_change("yellow", "red", reason=None, role="parent")  # type: ignore[arg-type]


def test_record_transition_gives_an_event_with_actor_time_and_note() -> None:
    event = record_transition(
        "open", "acknowledge", actor_id="t-17", actor_role="counsellor", at=AT, note="  on it "
    )
    assert event == CaseEvent(
        from_state="open",
        action="acknowledge",
        to_state="acknowledged",
        actor_id="t-17",
        actor_role="counsellor",
        at=AT.astimezone(UTC),
        note="on it",
    )
    assert event.at.tzinfo is UTC
    assert msgspec.json.decode(msgspec.json.encode(event), type=CaseEvent) == event
    closed = record_transition(
        "monitoring", "close", actor_id="t-17", actor_role="counsellor", at=AT, note=REASON
    )
    assert (closed.to_state, closed.note) == ("closed", REASON)
    blank = record_transition(
        "closed", "reopen", actor_id="t-17", actor_role="counsellor", at=AT, note=" "
    )
    assert blank.note is None


def test_record_transition_errors() -> None:
    with pytest.raises(CaseRuleError, match="needs a reason"):
        record_transition("assessing", "close", actor_id="t", actor_role="counsellor", at=AT)
    with pytest.raises(IllegalTransition):
        record_transition(
            "open", "close", actor_id="t", actor_role="counsellor", at=AT, note=REASON
        )
    with pytest.raises(CaseRuleError, match="a head_teacher may not acknowledge"):
        record_transition("open", "acknowledge", actor_id="t", actor_role="head_teacher", at=AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        record_transition(
            "open", "acknowledge", actor_id="t", actor_role="counsellor", at=datetime(2026, 9, 15)
        )
    with pytest.raises(ValueError, match="actor_id"):
        record_transition("open", "acknowledge", actor_id=" ", actor_role="counsellor", at=AT)


def test_action_roles() -> None:
    assert set(ACTION_ROLES) == set(CASE_ACTIONS)
    assert may_perform("school_lead", "acknowledge")
    assert may_perform("school_lead", "refer")
    assert not may_perform("school_lead", "close")
    assert not may_perform("peer_supporter", "acknowledge")
    assert all(may_perform("counsellor", action) for action in CASE_ACTIONS)
    with pytest.raises(ValueError, match="unknown case action"):
        may_perform("counsellor", "delete")  # type: ignore[arg-type]
