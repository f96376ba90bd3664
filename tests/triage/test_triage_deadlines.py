"""Case deadlines from the policy file, the submission time and the school calendar."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_strategies import calendars, instants, sh

from triage import (
    DEFAULT_POLICY_PATH,
    Deadlines,
    SchoolCalendar,
    TaskDeadline,
    Term,
    Tier,
    TriageResult,
    compute_deadlines,
    load_policy,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = SchoolCalendar()
POLICY = load_policy()


def result(tier: Tier, pathway: str | None) -> TriageResult:
    return TriageResult(
        tier=tier,
        pathway=pathway,
        reasons=(),
        policy_version=POLICY.version,
    )


RED = result("red", "crisis")
SUICIDE = result("orange", "suicide")
SEVERITY = result("orange", "severity")
YELLOW = result("yellow", "elevated")


def due(deadlines: Deadlines) -> dict[str, datetime]:
    return {task.kind: task.due_at.astimezone(SH) for task in deadlines.tasks}


def test_red_counts_clock_time_at_any_hour() -> None:
    deadlines = compute_deadlines(
        RED, submitted_at=sh(2025, 3, 8, 21, 0), calendar=CAL, policy=POLICY
    )
    assert deadlines.acknowledge_by == sh(2025, 3, 8, 21, 15)  # a Saturday evening
    assert deadlines.acknowledge_by.tzinfo is UTC
    assert due(deadlines) == {
        "acknowledge": sh(2025, 3, 8, 21, 15),
        "safety_assessment": sh(2025, 3, 8, 23, 59, 59),
        "guardian_contact": sh(2025, 3, 8, 23, 59, 59),
    }
    assert deadlines.tasks[0].kind == "acknowledge"


def test_red_late_at_night_acknowledge_is_pulled_to_the_same_day() -> None:
    deadlines = compute_deadlines(
        RED, submitted_at=sh(2025, 3, 8, 23, 50), calendar=CAL, policy=POLICY
    )
    assert deadlines.acknowledge_by == sh(2025, 3, 8, 23, 59, 59)


def test_orange_suicide_during_school_hours() -> None:
    deadlines = compute_deadlines(
        SUICIDE, submitted_at=sh(2025, 3, 10, 10, 0), calendar=CAL, policy=POLICY
    )
    assert due(deadlines) == {
        "acknowledge": sh(2025, 3, 10, 11, 0),
        "safety_assessment": sh(2025, 3, 10, 17, 0),
        "guardian_contact": sh(2025, 3, 10, 17, 0),
    }


def test_orange_suicide_late_friday_is_due_before_the_student_goes_home() -> None:
    deadlines = compute_deadlines(
        SUICIDE, submitted_at=sh(2025, 3, 7, 16, 30), calendar=CAL, policy=POLICY
    )
    # One clock hour would be 17:30, but the safety assessment is due today at 17:00.
    assert deadlines.acknowledge_by == sh(2025, 3, 7, 17, 0)
    assert due(deadlines)["safety_assessment"] == sh(2025, 3, 7, 17, 0)


def test_orange_suicide_submitted_at_home_on_friday_evening() -> None:
    # default-2026.1 (issue 11): the suicide pathway counts the wall clock, so a Friday
    # evening answer no longer waits for Monday's school hours.
    deadlines = compute_deadlines(
        SUICIDE, submitted_at=sh(2025, 3, 7, 20, 0), calendar=CAL, policy=POLICY
    )
    assert due(deadlines) == {
        "acknowledge": sh(2025, 3, 7, 21, 0),
        "safety_assessment": sh(2025, 3, 7, 23, 59, 59),
        "guardian_contact": sh(2025, 3, 7, 23, 59, 59),
    }


@pytest.mark.parametrize(
    "submitted",
    [
        sh(2025, 3, 7, 18, 30),  # Friday evening
        sh(2025, 3, 8, 3, 0),  # Saturday night
        sh(2025, 3, 9, 23, 30),  # Sunday, late
    ],
)
def test_orange_suicide_outside_school_hours_counts_the_clock(submitted: datetime) -> None:
    deadlines = compute_deadlines(SUICIDE, submitted_at=submitted, calendar=CAL, policy=POLICY)
    assert submitted < deadlines.acknowledge_by <= submitted + timedelta(hours=1)
    for task in deadlines.tasks:
        assert task.due_at <= submitted + timedelta(hours=24)
        assert task.due_at.astimezone(SH).date() == submitted.date()


def test_orange_severity() -> None:
    deadlines = compute_deadlines(
        SEVERITY, submitted_at=sh(2025, 3, 7, 16, 0), calendar=CAL, policy=POLICY
    )
    assert due(deadlines) == {
        "acknowledge": sh(2025, 3, 10, 9, 0),
        "counsellor_assessment": sh(2025, 3, 11, 17, 0),
        "guardian_contact": sh(2025, 3, 11, 17, 0),
    }
    assert [t.kind for t in deadlines.tasks] == [
        "acknowledge",
        "counsellor_assessment",
        "guardian_contact",
    ]


def test_yellow_without_terms_rescreens_after_120_days() -> None:
    submitted = sh(2025, 3, 10, 10, 0)
    deadlines = compute_deadlines(YELLOW, submitted_at=submitted, calendar=CAL, policy=POLICY)
    assert due(deadlines) == {
        "acknowledge": sh(2025, 3, 11, 17, 0),
        "counsellor_interview": sh(2025, 3, 24, 17, 0),
        "rescreen": submitted + timedelta(days=120),
    }


def test_yellow_with_terms_rescreens_at_the_start_of_next_term() -> None:
    cal = SchoolCalendar(
        holidays=frozenset({date(2026, 3, 2)}),
        terms=(
            Term(start=date(2025, 9, 1), end=date(2026, 1, 16)),
            Term(start=date(2026, 3, 2), end=date(2026, 7, 3)),
        ),
    )
    deadlines = compute_deadlines(
        YELLOW, submitted_at=sh(2025, 9, 15, 10), calendar=cal, policy=POLICY
    )
    # The next term starts on a holiday, so its first school day is Tuesday 3 March.
    assert due(deadlines)["rescreen"] == sh(2026, 3, 3, 8, 0)
    # In the last configured term there is no next term: the 120-day fallback applies.
    late = compute_deadlines(YELLOW, submitted_at=sh(2026, 3, 10, 10), calendar=cal, policy=POLICY)
    assert due(late)["rescreen"] == sh(2026, 3, 10, 10) + timedelta(days=120)


def test_deadlines_past_the_last_term_fall_back_to_weekdays() -> None:
    cal = SchoolCalendar(terms=(Term(start=date(2026, 3, 2), end=date(2026, 7, 3)),))
    deadlines = compute_deadlines(
        YELLOW, submitted_at=sh(2026, 7, 1, 10), calendar=cal, policy=POLICY
    )
    # 2 and 3 July are in term; the count continues on weekdays after the term.
    assert due(deadlines)["counsellor_interview"] == sh(2026, 7, 15, 17, 0)


def test_open_case_result_uses_the_tiers_default_pathway() -> None:
    kept = result("orange", "open_case")
    assert compute_deadlines(
        kept, submitted_at=sh(2025, 3, 10, 10), calendar=CAL, policy=POLICY
    ) == compute_deadlines(SUICIDE, submitted_at=sh(2025, 3, 10, 10), calendar=CAL, policy=POLICY)


def test_durations_come_from_the_policy_file(tmp_path: Path) -> None:
    doc = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    doc["version"] = "slow-district"
    doc["tiers"][0]["pathways"][0]["acknowledge"] = {"counting": "school", "duration": "PT30M"}
    doc["tiers"][1]["pathways"][1]["tasks"][0]["due"] = {"counting": "clock", "duration": "P3D"}
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    policy = load_policy(path)
    red = TriageResult(tier="red", pathway="crisis", reasons=(), policy_version="slow-district")
    saturday = sh(2025, 3, 8, 12)
    # The acknowledgement is now school time, but never after the same-day safety assessment.
    assert compute_deadlines(
        red, submitted_at=saturday, calendar=CAL, policy=policy
    ).acknowledge_by == sh(2025, 3, 8, 23, 59, 59)
    sev = TriageResult(
        tier="orange", pathway="severity", reasons=(), policy_version="slow-district"
    )
    assert due(compute_deadlines(sev, submitted_at=saturday, calendar=CAL, policy=policy))[
        "counsellor_assessment"
    ] == sh(2025, 3, 11, 12)


def test_errors() -> None:
    with pytest.raises(ValueError, match="green"):
        compute_deadlines(
            result("green", None), submitted_at=sh(2025, 3, 10, 10), calendar=CAL, policy=POLICY
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_deadlines(RED, submitted_at=datetime(2025, 3, 10, 10), calendar=CAL, policy=POLICY)
    other = TriageResult(tier="red", pathway="crisis", reasons=(), policy_version="old")
    with pytest.raises(ValueError, match="policy 'old'"):
        compute_deadlines(other, submitted_at=sh(2025, 3, 10, 10), calendar=CAL, policy=POLICY)


# -- properties ---------------------------------------------------------------------------------

RESULTS = st.sampled_from([RED, SUICIDE, SEVERITY, YELLOW])


def school_counted_kinds(res: TriageResult) -> set[str]:
    """Kinds whose deadline the policy counts in school time (rescreen's fallback is clock)."""
    pathway = POLICY.tier_policy(res.tier).pathway(res.pathway)
    kinds = {"acknowledge"} if pathway.acknowledge.counting == "school" else set()
    for task in pathway.tasks:
        if task.due.counting == "school" and task.due.until != "next_term":
            kinds.add(task.kind)
    return kinds


@settings(max_examples=200, deadline=None)
@given(calendars(), RESULTS, instants())
def test_deadlines_are_after_submission_and_inside_school_hours(
    calendar: SchoolCalendar, res: TriageResult, submitted: datetime
) -> None:
    deadlines = compute_deadlines(res, submitted_at=submitted, calendar=calendar, policy=POLICY)
    assert TaskDeadline("acknowledge", deadlines.acknowledge_by) in deadlines.tasks
    assert [t.due_at for t in deadlines.tasks] == sorted(t.due_at for t in deadlines.tasks)
    school = school_counted_kinds(res)
    for task in deadlines.tasks:
        assert task.due_at.tzinfo is UTC
        assert task.due_at >= submitted
        # The acknowledgement comes first (a rescreen at the start of a term may not).
        assert deadlines.acknowledge_by <= task.due_at or task.kind == "rescreen"
        if task.kind in school:
            assert calendar.in_school_hours(task.due_at), task


@settings(max_examples=200, deadline=None)
@given(calendars(), RESULTS, instants(), st.integers(0, 20 * 86400))
def test_deadlines_are_monotonic_in_submission_time(
    calendar: SchoolCalendar, res: TriageResult, submitted: datetime, later_by: int
) -> None:
    early = compute_deadlines(res, submitted_at=submitted, calendar=calendar, policy=POLICY)
    late = compute_deadlines(
        res, submitted_at=submitted + timedelta(seconds=later_by), calendar=calendar, policy=POLICY
    )
    assert early.acknowledge_by <= late.acknowledge_by
    late_by_kind = {t.kind: t.due_at for t in late.tasks}
    for task in early.tasks:
        assert task.due_at <= late_by_kind[task.kind], task.kind


def test_submission_in_any_offset_gives_the_same_deadlines() -> None:
    in_utc = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)
    assert compute_deadlines(SUICIDE, submitted_at=in_utc, calendar=CAL, policy=POLICY) == (
        compute_deadlines(SUICIDE, submitted_at=in_utc.astimezone(SH), calendar=CAL, policy=POLICY)
    )
