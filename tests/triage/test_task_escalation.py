"""Acknowledged but overdue tasks: re-notify, then climb the ladder, each rung exactly once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from care_calendars import CAL_2026, SH, sh
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_strategies import calendars, instants

from triage import (
    EscalationStep,
    SchoolCalendar,
    due_escalations,
    load_policy,
    task_escalation_ladder,
)

POLICY = load_policy()


def shanghai(steps: tuple[EscalationStep, ...]) -> list[tuple[int, str, datetime]]:
    return [(s.level, s.role, s.due_at.astimezone(SH)) for s in steps]


def test_red_task_climbs_every_15_minutes_at_any_hour() -> None:
    ladder = task_escalation_ladder(
        sh(2026, 10, 3, 21), tier="red", calendar=CAL_2026, policy=POLICY
    )
    assert shanghai(ladder) == [
        (1, "counsellor", sh(2026, 10, 3, 21)),
        (2, "school_lead", sh(2026, 10, 3, 21, 15)),
        (3, "district_officer", sh(2026, 10, 3, 21, 30)),
    ]
    assert all(step.due_at.tzinfo is UTC for step in ladder)


def test_orange_task_escalates_on_the_wall_clock_across_national_day() -> None:
    # The orange tier carries the suicide pathway, whose safety assessment must not wait for
    # the end of a holiday: overdue orange tasks climb every hour on the clock (issue 11).
    ladder = task_escalation_ladder(
        sh(2026, 9, 30, 17), tier="orange", calendar=CAL_2026, policy=POLICY
    )
    assert shanghai(ladder) == [
        (1, "counsellor", sh(2026, 9, 30, 17)),
        (2, "school_lead", sh(2026, 9, 30, 18)),
        (3, "district_officer", sh(2026, 9, 30, 19)),
    ]


def test_yellow_task_reaches_the_school_lead_a_school_day_later() -> None:
    ladder = task_escalation_ladder(
        sh(2026, 10, 9, 17), tier="yellow", calendar=CAL_2026, policy=POLICY
    )
    # The next school day is the make-up Saturday, 10 October.
    assert shanghai(ladder) == [
        (1, "counsellor", sh(2026, 10, 9, 17)),
        (2, "school_lead", sh(2026, 10, 10, 17)),
    ]


def test_errors() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        task_escalation_ladder(datetime(2026, 9, 30), tier="red", calendar=CAL_2026, policy=POLICY)
    with pytest.raises(ValueError, match="case tier"):
        task_escalation_ladder(
            sh(2026, 9, 30),
            tier="green",
            calendar=CAL_2026,
            policy=POLICY,  # type: ignore[arg-type]
        )


TIERS = st.sampled_from(["red", "orange", "yellow"])
#: Clock moves: jumps forward of up to ten days and back of up to three, in seconds.
MOVES = st.lists(st.integers(-3 * 86400, 10 * 86400), max_size=30)


@settings(max_examples=250, deadline=None)
@given(calendars(), TIERS, instants(), st.integers(0, 20 * 86400), MOVES)
def test_every_rung_fires_exactly_once_in_order_and_never_early(
    calendar: SchoolCalendar, tier: str, due_at: datetime, start_offset: int, moves: list[int]
) -> None:
    ladder = task_escalation_ladder(due_at, tier=tier, calendar=calendar, policy=POLICY)  # type: ignore[arg-type]
    assert ladder[0] == EscalationStep(level=1, role="counsellor", due_at=due_at)
    assert [s.level for s in ladder] == list(range(1, len(ladder) + 1))
    assert [s.role for s in ladder][1:] == [r.role for r in POLICY.tier_policy(tier).escalation]
    assert all(a.due_at <= b.due_at for a, b in itertools.pairwise(ladder))

    fired: list[EscalationStep] = []
    fired_level = 0
    now = due_at - timedelta(seconds=start_offset)
    for move in [*moves, None]:
        now = (
            ladder[-1].due_at + timedelta(days=1) if move is None else now + timedelta(seconds=move)
        )
        out = due_escalations(ladder, fired_level=fired_level, now=now)
        assert all(step.due_at <= now for step in out), "a rung fired before it was due"
        assert [s.level for s in out] == list(range(fired_level + 1, fired_level + 1 + len(out)))
        assert all(s.due_at > now for s in ladder if s.level > fired_level + len(out))
        fired.extend(out)
        if out:
            fired_level = out[-1].level
    assert fired == list(ladder)
