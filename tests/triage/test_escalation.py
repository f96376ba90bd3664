"""The escalation ladder and firing its rungs exactly once, in order, whatever the clock does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_strategies import calendars, instants, sh

from triage import (
    EscalationStep,
    SchoolCalendar,
    Tier,
    TriageResult,
    compute_deadlines,
    due_escalations,
    escalation_ladder,
    load_policy,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = SchoolCalendar()
POLICY = load_policy()


def ladder_in_shanghai(steps: tuple[EscalationStep, ...]) -> list[tuple[int, str, datetime]]:
    return [(s.level, s.role, s.due_at.astimezone(SH)) for s in steps]


def test_red_ladder_escalates_every_15_minutes_at_any_hour() -> None:
    ladder = escalation_ladder(
        "red", acknowledge_by=sh(2025, 3, 8, 21, 15), calendar=CAL, policy=POLICY
    )
    assert ladder_in_shanghai(ladder) == [
        (1, "school_lead", sh(2025, 3, 8, 21, 15)),
        (2, "district_officer", sh(2025, 3, 8, 21, 30)),
    ]
    assert all(step.due_at.tzinfo is UTC for step in ladder)


def test_orange_ladder_runs_on_the_wall_clock_over_a_weekend() -> None:
    # Orange carries the suicide pathway: an unacknowledged case on a Friday evening reaches
    # the district officer an hour after the school lead, not on Monday (issue 11).
    ladder = escalation_ladder(
        "orange", acknowledge_by=sh(2025, 3, 7, 17, 0), calendar=CAL, policy=POLICY
    )
    assert ladder_in_shanghai(ladder) == [
        (1, "school_lead", sh(2025, 3, 7, 17, 0)),
        (2, "district_officer", sh(2025, 3, 7, 18, 0)),
    ]


def test_yellow_ladder_stops_at_the_school_lead() -> None:
    ladder = escalation_ladder(
        "yellow", acknowledge_by=sh(2025, 3, 11, 17), calendar=CAL, policy=POLICY
    )
    assert ladder_in_shanghai(ladder) == [(1, "school_lead", sh(2025, 3, 11, 17))]


def test_errors() -> None:
    with pytest.raises(ValueError, match="green"):
        escalation_ladder("green", acknowledge_by=sh(2025, 3, 7, 17), calendar=CAL, policy=POLICY)
    with pytest.raises(ValueError, match="timezone-aware"):
        escalation_ladder(
            "red", acknowledge_by=datetime(2025, 3, 7, 17), calendar=CAL, policy=POLICY
        )
    ladder = escalation_ladder(
        "red", acknowledge_by=sh(2025, 3, 7, 17), calendar=CAL, policy=POLICY
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        due_escalations(ladder, fired_level=0, now=datetime(2025, 3, 7, 17))
    with pytest.raises(ValueError, match="fired_level"):
        due_escalations(ladder, fired_level=-1, now=sh(2025, 3, 7, 17))
    backwards = (
        EscalationStep(level=1, role="school_lead", due_at=sh(2025, 3, 7, 18)),
        EscalationStep(level=2, role="district_officer", due_at=sh(2025, 3, 7, 17)),
    )
    with pytest.raises(ValueError, match="due before level 1"):
        due_escalations(backwards, fired_level=0, now=sh(2025, 3, 7, 19))
    with pytest.raises(ValueError, match="repeats level 1"):
        due_escalations(backwards[:1] * 2, fired_level=0, now=sh(2025, 3, 7, 19))


def test_clock_jumps_fire_each_rung_once_in_order() -> None:
    ladder = escalation_ladder(
        "red", acknowledge_by=sh(2025, 3, 8, 21, 15), calendar=CAL, policy=POLICY
    )
    assert due_escalations(ladder, fired_level=0, now=sh(2025, 3, 8, 21, 14, 59)) == ()
    first = due_escalations(ladder, fired_level=0, now=sh(2025, 3, 8, 21, 15))
    assert [s.level for s in first] == [1]
    assert due_escalations(ladder, fired_level=1, now=sh(2025, 3, 8, 21, 20)) == ()
    # The sweeper was down for three days: the rest comes out at once.
    assert [s.level for s in due_escalations(ladder, fired_level=1, now=sh(2025, 3, 11))] == [2]
    # A clock that jumps back fires nothing again, nor anything early.
    assert due_escalations(ladder, fired_level=2, now=sh(2025, 3, 8, 21)) == ()
    assert [s.level for s in due_escalations(ladder, fired_level=0, now=sh(2025, 3, 11))] == [
        1,
        2,
    ]


def test_ladder_order_does_not_matter() -> None:
    ladder = escalation_ladder(
        "red", acknowledge_by=sh(2025, 3, 8, 21, 15), calendar=CAL, policy=POLICY
    )
    reversed_ladder = tuple(reversed(ladder))
    assert due_escalations(reversed_ladder, fired_level=0, now=sh(2025, 3, 9)) == ladder


TIERS: st.SearchStrategy[tuple[Tier, str]] = st.sampled_from(
    [("red", "crisis"), ("orange", "suicide"), ("orange", "severity"), ("yellow", "elevated")]
)
CASE_TIERS: st.SearchStrategy[Tier] = st.sampled_from(["red", "orange", "yellow"])
#: Clock moves: jumps forward of up to ten days and back of up to three, in seconds.
MOVES = st.lists(st.integers(-3 * 86400, 10 * 86400), max_size=30)


@settings(max_examples=300, deadline=None)
@given(calendars(), TIERS, instants(), MOVES)
def test_random_clock_fires_every_rung_exactly_once_in_order(
    calendar: SchoolCalendar,
    tier_pathway: tuple[Tier, str],
    submitted: datetime,
    moves: list[int],
) -> None:
    tier, pathway = tier_pathway
    res = TriageResult(tier=tier, pathway=pathway, reasons=(), policy_version=POLICY.version)
    deadlines = compute_deadlines(res, submitted_at=submitted, calendar=calendar, policy=POLICY)
    ladder = escalation_ladder(
        res.tier, acknowledge_by=deadlines.acknowledge_by, calendar=calendar, policy=POLICY
    )
    assert ladder[0].due_at == deadlines.acknowledge_by
    assert [s.level for s in ladder] == list(range(1, len(ladder) + 1))
    assert all(a.due_at <= b.due_at for a, b in itertools.pairwise(ladder))

    fired: list[EscalationStep] = []
    fired_level = 0
    now = submitted
    for move in [*moves, None]:
        # Finish far in the future, so that every rung must have fired by the end.
        if move is None:
            now = ladder[-1].due_at + timedelta(days=1)
        else:
            now += timedelta(seconds=move)
        out = due_escalations(ladder, fired_level=fired_level, now=now)
        for step in out:
            assert step.due_at <= now, "a rung fired before it was due"
        assert [s.level for s in out] == list(range(fired_level + 1, fired_level + 1 + len(out)))
        # Every rung already due has come out.
        assert all(s.due_at > now for s in ladder if s.level > fired_level + len(out))
        fired.extend(out)
        if out:
            fired_level = out[-1].level
    assert fired == list(ladder)


@settings(max_examples=100, deadline=None)
@given(calendars(), instants(), CASE_TIERS)
def test_ladder_is_never_before_acknowledge_by(
    calendar: SchoolCalendar, acknowledge_by: datetime, tier: Tier
) -> None:
    ladder = escalation_ladder(
        tier, acknowledge_by=acknowledge_by, calendar=calendar, policy=POLICY
    )
    assert ladder
    assert all(step.due_at >= acknowledge_by for step in ladder)


def test_next_rung_follows_the_ladder_not_a_second_list() -> None:
    from triage import EscalationStep, next_rung

    at = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
    ladder = (
        EscalationStep(level=2, role="district_officer", due_at=at),
        EscalationStep(level=1, role="school_lead", due_at=at),
    )
    assert next_rung(ladder, failed="counsellor") == ladder[1]
    assert next_rung(ladder, failed="school_lead") == ladder[0]
    assert next_rung(ladder, failed="district_officer") is None
    assert next_rung((), failed="counsellor") is None
    only_district = (EscalationStep(level=1, role="district_officer", due_at=at),)
    assert next_rung(only_district, failed="counsellor") == only_district[0]
    assert next_rung(only_district, failed="school_lead") is None
    with pytest.raises(ValueError, match="failed"):
        next_rung(ladder, failed="head_teacher")  # type: ignore[arg-type]
